//! A deterministic synthetic ledger for the nationwide bench: hospitals
//! holding network appliances, servers, PCs and medical devices, with the
//! vendor/product/version mixes a real national roll-out would show.
//!
//! Hospitals share models and firmware heavily (a prefecture buys the same
//! FortiGate, IT vendors roll out the same Windows build), which is what
//! `Inventory` deduplicates; a long tail comes from per-PC patch levels,
//! PC models, stray firmware and the device names of the ICSMA advisories.
//! Some hospitals record CPEs, the others only names, as real ledgers do.

use std::collections::HashMap;

use mamori_advisories::InventoryItem;
use mamori_domain::cpe::CpeName;

/// SplitMix64: tiny, seedable, good enough to spread choices.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent as usize
    }

    /// An index drawn in proportion to `weights` (not all zero).
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut pick = (self.next_u64() % total.max(1)) as i64;
        for (i, &w) in weights.iter().enumerate() {
            pick -= i64::from(w);
            if pick < 0 {
                return i;
            }
        }
        weights.len() - 1
    }
}

/// Where an asset sits in a hospital.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Firewall,
    Vpn,
    Switch,
    Router,
    WinServer,
    LinuxServer,
    Database,
    Hypervisor,
    Pc,
    Medical,
}

/// How a release is written into a CPE's version and update fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CpeStyle {
    /// The release is the version (`7.0.12`).
    Plain,
    /// Ivanti `22.4R2.2` → version `22.4`, update `r2.2`.
    Ivanti,
    /// PAN-OS `10.2.9-h1` → version `10.2.9`, update `h1` (else `-`).
    PanOs,
    /// Firmware named per model with no version (`-`), as NVD names GE's.
    NoVersion,
}

/// One product line: who makes it, how it is named, which releases and
/// models are around (with how common each is).
#[derive(Debug, Clone)]
struct Family {
    role: Role,
    /// How often hospitals pick it over the others of its role.
    popularity: u32,
    vendor: String,
    product: String,
    /// `part:vendor:product` of its CPE; `{m}` is the folded model.
    cpe: Option<String>,
    /// `part:vendor:product` of the hardware platform, `{m}` likewise.
    platform: Option<String>,
    style: CpeStyle,
    versions: Vec<(String, u32)>,
    models: Vec<String>,
}

fn family(
    role: Role,
    popularity: u32,
    vendor: &str,
    product: &str,
    cpe: Option<&str>,
    versions: &[(&str, u32)],
    models: &[&str],
) -> Family {
    Family {
        role,
        popularity,
        vendor: vendor.to_string(),
        product: product.to_string(),
        cpe: cpe.map(str::to_string),
        platform: None,
        style: CpeStyle::Plain,
        versions: versions.iter().map(|(v, w)| (v.to_string(), *w)).collect(),
        models: models.iter().map(|m| m.to_string()).collect(),
    }
}

fn styled(mut f: Family, style: CpeStyle, platform: Option<&str>) -> Family {
    f.style = style;
    f.platform = platform.map(str::to_string);
    f
}

/// Monthly cumulative-update builds, oldest first.
fn builds(prefix: &str, numbers: &[u32]) -> Vec<(String, u32)> {
    numbers
        .iter()
        .map(|n| (format!("{prefix}.{n}"), 1))
        .collect()
}

fn windows(
    role: Role,
    popularity: u32,
    product: &str,
    cpe: &str,
    prefix: &str,
    numbers: &[u32],
    models: &[&str],
) -> Family {
    Family {
        role,
        popularity,
        vendor: "Microsoft".to_string(),
        product: product.to_string(),
        cpe: Some(cpe.to_string()),
        platform: None,
        style: CpeStyle::Plain,
        versions: builds(prefix, numbers),
        models: models.iter().map(|m| m.to_string()).collect(),
    }
}

const PC_MODELS: &[&str] = &[
    "Dell OptiPlex 7090",
    "Dell OptiPlex 7010",
    "HP EliteDesk 800 G6",
    "HP ProDesk 400 G7",
    "Lenovo ThinkCentre M70q",
    "Lenovo ThinkPad L14",
    "NEC Mate MKM30",
    "NEC VersaPro VKT16",
    "Fujitsu ESPRIMO D7012",
    "Fujitsu LIFEBOOK A5512",
    "Panasonic Let's note FV3",
    "Dynabook Satellite B65",
];

const SERVER_MODELS: &[&str] = &[
    "Dell PowerEdge R650",
    "HPE ProLiant DL360 Gen10",
    "Fujitsu PRIMERGY RX2540 M6",
    "NEC Express5800/R120h",
    "Lenovo ThinkSystem SR630",
];

/// The hand-made catalogue: the vendors and releases a Japanese hospital
/// network actually runs, vulnerable and fixed side by side.
fn catalogue() -> Vec<Family> {
    use Role::*;
    let mut out = vec![
        // Firewalls and SSL-VPN gateways.
        family(
            Firewall,
            55,
            "Fortinet",
            "FortiGate",
            Some("o:fortinet:fortios"),
            &[
                ("6.0.14", 2),
                ("6.0.17", 2),
                ("6.2.10", 3),
                ("6.2.15", 4),
                ("6.2.16", 3),
                ("6.4.9", 4),
                ("6.4.12", 5),
                ("6.4.14", 5),
                ("6.4.15", 6),
                ("7.0.7", 4),
                ("7.0.11", 6),
                ("7.0.12", 12),
                ("7.0.13", 8),
                ("7.0.14", 10),
                ("7.0.15", 8),
                ("7.2.4", 4),
                ("7.2.5", 5),
                ("7.2.6", 6),
                ("7.2.7", 6),
                ("7.2.8", 9),
                ("7.2.10", 6),
                ("7.4.1", 3),
                ("7.4.2", 4),
                ("7.4.3", 5),
                ("7.4.4", 4),
            ],
            &[
                "FG-40F", "FG-60F", "FG-61F", "FG-80F", "FG-100F", "FG-200F", "FG-400E", "FG-600E",
            ],
        ),
        styled(
            family(
                Firewall,
                20,
                "Palo Alto Networks",
                "PAN-OS",
                Some("o:paloaltonetworks:pan-os"),
                &[
                    ("9.1.16", 2),
                    ("10.1.11-h4", 3),
                    ("10.2.4", 3),
                    ("10.2.9-h1", 6),
                    ("10.2.10", 4),
                    ("11.0.3", 3),
                    ("11.1.0-h3", 2),
                    ("11.1.2", 4),
                    ("11.1.2-h3", 4),
                    ("11.1.3", 3),
                ],
                &["PA-220", "PA-440", "PA-850", "PA-3220"],
            ),
            CpeStyle::PanOs,
            None,
        ),
        styled(
            family(
                Vpn,
                35,
                "Ivanti",
                "Connect Secure",
                Some("a:ivanti:connect_secure"),
                &[
                    ("9.1R14", 2),
                    ("9.1R15", 2),
                    ("9.1R17", 3),
                    ("9.1R18", 5),
                    ("9.1R18.2", 4),
                    ("22.3R1", 2),
                    ("22.4R2.2", 5),
                    ("22.5R2.1", 3),
                    ("22.6R2.3", 3),
                    ("22.7R2", 3),
                ],
                &["PSA3000", "PSA5000", "ISA4000-V"],
            ),
            CpeStyle::Ivanti,
            None,
        ),
        family(
            Vpn,
            45,
            "Fortinet",
            "FortiGate SSL-VPN",
            Some("o:fortinet:fortios"),
            &[
                ("6.4.15", 3),
                ("7.0.12", 6),
                ("7.0.14", 5),
                ("7.2.8", 4),
                ("7.4.3", 2),
            ],
            &["FG-100F", "FG-200F"],
        ),
        family(
            Switch,
            60,
            "Cisco",
            "IOS XE",
            Some("o:cisco:ios_xe"),
            &[
                ("16.9.8", 2),
                ("16.12.4", 4),
                ("17.3.4", 6),
                ("17.3.8a", 3),
                ("17.6.5", 5),
                ("17.9.4a", 4),
                ("17.12.2", 2),
            ],
            &["Catalyst 9300", "Catalyst 9200", "ISR 4331"],
        ),
        family(
            Switch,
            40,
            "Allied Telesis",
            "AlliedWare Plus",
            None,
            &[("5.4.9-2.4", 3), ("5.5.2-1.3", 2)],
            &["x530-28GTXm", "x230-18GT"],
        ),
    ];
    for (model, versions) in [
        (
            "RTX1210",
            &[("14.01.38", 3), ("14.01.41", 4), ("14.01.42", 2)][..],
        ),
        (
            "RTX830",
            &[("15.02.20", 2), ("15.02.29", 4), ("15.02.31", 2)][..],
        ),
        ("RTX1220", &[("15.04.04", 3), ("15.04.06", 2)][..]),
        ("NVR510", &[("15.01.21", 2), ("15.01.24", 3)][..]),
    ] {
        out.push(styled(
            family(
                Router,
                25,
                "Yamaha",
                &format!("{model} firmware"),
                Some("o:yamaha:{m}_firmware"),
                versions,
                &[model],
            ),
            CpeStyle::Plain,
            Some("h:yamaha:{m}"),
        ));
    }
    out.push(family(
        Router,
        20,
        "NEC",
        "UNIVERGE IX",
        None,
        &[("10.2.42", 2), ("10.7.21", 3)],
        &["IX2106", "IX2207"],
    ));

    // Servers.
    out.push(windows(
        WinServer,
        40,
        "Windows Server 2019",
        "o:microsoft:windows_server_2019",
        "10.0.17763",
        &[
            1457, 1935, 2114, 2183, 3887, 4252, 4377, 4499, 4645, 4737, 4851, 4974, 5122, 5206,
            5329, 5458, 5576, 5696, 5820, 5936, 6054, 6189, 6293, 6414, 6532, 6659,
        ],
        SERVER_MODELS,
    ));
    out.push(windows(
        WinServer,
        35,
        "Windows Server 2022",
        "o:microsoft:windows_server_2022",
        "10.0.20348",
        &[
            169, 587, 1850, 2031, 2159, 2227, 2340, 2461, 2582, 2700, 2849, 2966, 3091, 3207, 3328,
            3453, 3561, 3695, 3807,
        ],
        SERVER_MODELS,
    ));
    out.push(windows(
        WinServer,
        20,
        "Windows Server 2016",
        "o:microsoft:windows_server_2016",
        "10.0.14393",
        &[4651, 5125, 5786, 6085, 6452, 6796, 7159, 7428, 7699],
        SERVER_MODELS,
    ));
    out.push(family(
        LinuxServer,
        40,
        "Red Hat",
        "Enterprise Linux",
        Some("o:redhat:enterprise_linux"),
        &[
            ("7.9", 4),
            ("8.6", 3),
            ("8.8", 4),
            ("8.10", 3),
            ("9.2", 3),
            ("9.4", 2),
        ],
        SERVER_MODELS,
    ));
    out.push(family(
        LinuxServer,
        25,
        "Canonical",
        "Ubuntu Linux",
        Some("o:canonical:ubuntu_linux"),
        &[("18.04", 1), ("20.04", 3), ("22.04", 4), ("24.04", 1)],
        SERVER_MODELS,
    ));
    out.push(family(
        LinuxServer,
        15,
        "Linux",
        "Linux Kernel",
        Some("o:linux:linux_kernel"),
        &[
            ("4.18.0", 3),
            ("5.4.0", 2),
            ("5.10.205", 2),
            ("5.14.0", 3),
            ("5.15.0", 3),
            ("6.1.55", 2),
            ("6.6.8", 1),
        ],
        SERVER_MODELS,
    ));
    out.push(family(
        Database,
        50,
        "Oracle",
        "Database Server",
        Some("a:oracle:database_server"),
        &[
            ("12.1.0.2", 1),
            ("12.2.0.1", 2),
            ("19c", 4),
            ("19.3", 2),
            ("19.21", 3),
            ("19.23", 2),
        ],
        SERVER_MODELS,
    ));
    out.push(family(
        Database,
        30,
        "Microsoft",
        "SQL Server",
        Some("a:microsoft:sql_server_2019"),
        &[("15.0.2000.5", 2), ("15.0.4355.3", 3)],
        SERVER_MODELS,
    ));
    out.push(family(
        Hypervisor,
        70,
        "VMware",
        "ESXi",
        Some("o:vmware:esxi"),
        &[
            ("6.5", 1),
            ("6.7", 3),
            ("7.0", 5),
            ("7.0.3", 4),
            ("8.0", 2),
            ("8.0.2", 2),
        ],
        SERVER_MODELS,
    ));
    out.push(family(
        Hypervisor,
        30,
        "Microsoft",
        "Hyper-V Server",
        None,
        &[("2019", 2), ("2022", 1)],
        SERVER_MODELS,
    ));

    // PCs: the bulk of every ledger.
    out.push(windows(
        Pc,
        60,
        "Windows 10 Enterprise 22H2",
        "o:microsoft:windows_10_22h2",
        "10.0.19045",
        &[
            2965, 3031, 3086, 3208, 3324, 3448, 3570, 3693, 3803, 3930, 4046, 4170, 4291, 4412,
            4529, 4651, 4780, 4894, 5011, 5131, 5247, 5371, 5487, 5608, 5737, 5854,
        ],
        PC_MODELS,
    ));
    out.push(windows(
        Pc,
        10,
        "Windows 10 Enterprise LTSC 2019",
        "o:microsoft:windows_10_1809",
        "10.0.17763",
        &[1935, 3887, 4499, 4974, 5458, 5936, 6414],
        PC_MODELS,
    ));
    out.push(windows(
        Pc,
        25,
        "Windows 11 Pro 23H2",
        "o:microsoft:windows_11_23h2",
        "10.0.22631",
        &[
            2428, 2506, 2715, 2861, 3007, 3155, 3296, 3447, 3593, 3737, 3880, 4037, 4169, 4317,
            4460, 4602, 4751, 4890,
        ],
        PC_MODELS,
    ));
    out.push(windows(
        Pc,
        8,
        "Windows 11 Pro 22H2",
        "o:microsoft:windows_11_22h2",
        "10.0.22621",
        &[1702, 1848, 2134, 2428, 2715, 3007, 3296, 3593, 3880, 4169],
        PC_MODELS,
    ));
    out.extend(medical());
    out
}

/// Medical devices by hand: imaging, monitors, pumps, PACS.
fn medical() -> Vec<Family> {
    use Role::Medical;
    let mut out = Vec::new();
    let mut add =
        |popularity: u32, vendor: &str, product: &str, versions: &[&str], models: &[&str]| {
            let weighted: Vec<(&str, u32)> = versions
                .iter()
                .enumerate()
                .map(|(i, v)| (*v, 1 + i as u32 % 3))
                .collect();
            out.push(family(
                Medical, popularity, vendor, product, None, &weighted, models,
            ));
        };
    add(
        40,
        "GE HealthCare",
        "Vivid 7",
        &["BT02", "BT04", "BT06"],
        &["Vivid 7 Dimension"],
    );
    add(
        30,
        "GE HealthCare",
        "Vivid i",
        &["BT06", "BT08"],
        &["Vivid i"],
    );
    add(
        40,
        "GE HealthCare",
        "LOGIQ E10",
        &["R2.5.1", "R3.0.2", "R4.1"],
        &["LOGIQ E10"],
    );
    add(
        25,
        "GE HealthCare",
        "Voluson 730",
        &["BT05", "BT08"],
        &["Voluson 730 Expert"],
    );
    add(
        30,
        "GE HealthCare",
        "Optima MR360",
        &["SV20.1", "SV23.0"],
        &["Optima MR360 1.5T"],
    );
    add(
        30,
        "GE HealthCare",
        "Signa HDxt",
        &["HD16", "HD23"],
        &["Signa HDxt 3.0T"],
    );
    add(
        50,
        "GE HealthCare",
        "CARESCAPE B650",
        &["2.0.6", "2.0.8", "3.2"],
        &["B650"],
    );
    add(
        35,
        "GE HealthCare",
        "CARESCAPE Central Station",
        &["1.0", "2.0", "2.1"],
        &["CSCS"],
    );
    add(
        30,
        "GE HealthCare",
        "MAC 5500 HD",
        &["9", "10"],
        &["MAC 5500"],
    );
    add(
        35,
        "Philips",
        "IntelliVue MX40",
        &["B.06.18", "B.06.50", "B.06.70"],
        &["MX40 WLAN"],
    );
    add(
        45,
        "Philips",
        "IntelliVue MX450",
        &["M.00.03", "N.00.01", "P.01.00"],
        &["MX450", "MX550"],
    );
    add(
        25,
        "Philips",
        "IntelliVue MX800",
        &["M.00.03", "N.00.01"],
        &["MX800"],
    );
    add(
        20,
        "Philips",
        "Patient Information Center iX",
        &["B.02", "C.02", "C.03"],
        &["PIC iX"],
    );
    add(
        20,
        "Philips",
        "Vue PACS",
        &["12.1.6", "12.2.1.5", "12.2.8"],
        &["Vue PACS"],
    );
    add(
        15,
        "Philips",
        "IntelliSpace Portal",
        &["8.0.3", "11.1.2", "12.1"],
        &["ISP"],
    );
    add(
        15,
        "Philips",
        "Brilliance iCT",
        &["3.2.4", "4.1.6", "4.1.7"],
        &["Brilliance iCT 256"],
    );
    add(
        30,
        "Siemens Healthineers",
        "syngo.via",
        &["VB40A", "VB60A", "VB80"],
        &["syngo.via"],
    );
    add(
        20,
        "Siemens Healthineers",
        "syngo fastView",
        &["VA30", "VB20"],
        &["syngo fastView"],
    );
    add(
        25,
        "Siemens Healthineers",
        "MAGNETOM Vida",
        &["XA30", "XA50", "XA60"],
        &["MAGNETOM Vida 3T"],
    );
    add(
        30,
        "Siemens Healthineers",
        "SOMATOM go.Up",
        &["VA30", "VA40"],
        &["SOMATOM go.Up"],
    );
    add(
        20,
        "Siemens Healthineers",
        "ACUSON Sequoia",
        &["VA10", "VA20"],
        &["ACUSON Sequoia"],
    );
    add(
        45,
        "Canon Medical Systems",
        "Aquilion ONE",
        &["V8.9", "V10.4", "V10.12"],
        &["TSX-305A", "TSX-306A"],
    );
    add(
        25,
        "Canon Medical Systems",
        "Vitrea",
        &["7.11", "7.14", "7.15"],
        &["Vitrea Advanced"],
    );
    add(
        25,
        "Canon Medical Systems",
        "Alphenix",
        &["V6.30", "V7.10"],
        &["INFX-8000V"],
    );
    add(
        50,
        "FUJIFILM",
        "SYNAPSE PACS",
        &["4.4", "5.7", "5.7.200", "7.1"],
        &["SYNAPSE"],
    );
    add(35, "FUJIFILM", "CALNEO", &["V4.1", "V5.2"], &["DR-ID 1300"]);
    add(
        25,
        "FUJIFILM",
        "AMULET Innovality",
        &["V3.2", "V4.0"],
        &["FDR MS-3500"],
    );
    add(
        40,
        "Nihon Kohden",
        "Life Scope G9",
        &["01-06", "01-10", "02-01"],
        &["CSM-1901"],
    );
    add(
        40,
        "Nihon Kohden",
        "Central Monitor CNS-6201",
        &["02-12", "03-40", "05-20"],
        &["CNS-6201"],
    );
    add(
        40,
        "Terumo",
        "Infusion Pump TE-LM800",
        &["1.00", "1.10"],
        &["TE-LM800"],
    );
    add(
        25,
        "Becton, Dickinson and Company (BD)",
        "Alaris PC Unit",
        &["9.19", "9.33", "9.33.1", "12.1"],
        &["Alaris 8015"],
    );
    add(
        15,
        "Baxter",
        "Sigma Spectrum",
        &["6.x", "8.x", "9.x"],
        &["35700BAX2", "35700BAX3"],
    );
    add(
        30,
        "Fukuda Denshi",
        "DS-8500 Monitor",
        &["V02", "V03.10"],
        &["DS-8500"],
    );
    add(25, "Omron", "HBP-9030", &["1.0.4", "1.1.0"], &["HBP-9030"]);
    add(
        20,
        "Hitachi",
        "ECHELON Smart",
        &["V5.1", "V6.0"],
        &["ECHELON Smart"],
    );
    // GE firmware as NVD names it (CVE-2020-25175): per model, version `-`,
    // with the hardware platform; only CPE-recording hospitals have these.
    for (product, model) in [
        ("vivid_7_bt06", "vivid_7"),
        ("voluson_730_bt08", "voluson_730"),
        ("optima_mr360", "optima_mr360"),
    ] {
        out.push(Family {
            role: Medical,
            popularity: 20,
            vendor: "GE HealthCare".to_string(),
            product: format!("{product} firmware"),
            cpe: Some(format!("o:gehealthcare:{product}_firmware")),
            platform: Some(format!("h:gehealthcare:{model}")),
            style: CpeStyle::NoVersion,
            versions: vec![("-".to_string(), 1)],
            models: vec![model.to_string()],
        });
    }
    out
}

/// A device named in an advisory (the ICSMA CSAF product trees), to mix
/// into the medical long tail.
#[derive(Debug, Clone)]
pub struct NamedDevice {
    pub vendor: String,
    pub product: String,
    pub versions: Vec<String>,
    pub model: String,
}

/// The synthetic nation: `hospitals` ledgers of `assets` each.
pub struct Ledger {
    pub hospitals: u32,
    pub assets: u16,
    pub seed: u64,
    families: Vec<Family>,
    by_role: HashMap<Role, Vec<usize>>,
    made: HashMap<(u32, u32, u32, bool), InventoryItem>,
}

/// What a hospital standardised on: a family with its fleet release and
/// model per role.
struct Profile {
    records_cpe: bool,
    fleet: HashMap<Role, (usize, usize, usize)>,
    pcs: Vec<(usize, usize, usize)>,
    medical: Vec<(usize, usize, usize)>,
    /// Where the hospital is in its patch cycle (0: up to date).
    patch_lag: usize,
}

impl Ledger {
    pub fn new(hospitals: u32, assets: u16, seed: u64, named: &[NamedDevice]) -> Ledger {
        let mut families = catalogue();
        for d in named {
            if d.vendor.trim().is_empty() || d.product.trim().is_empty() {
                continue;
            }
            let versions: Vec<(String, u32)> = if d.versions.is_empty() {
                vec![(String::new(), 1)]
            } else {
                d.versions.iter().map(|v| (v.clone(), 1)).collect()
            };
            families.push(Family {
                role: Role::Medical,
                popularity: 2,
                vendor: d.vendor.clone(),
                product: d.product.clone(),
                cpe: None,
                platform: None,
                style: CpeStyle::Plain,
                versions,
                models: vec![d.model.clone()],
            });
        }
        let mut by_role: HashMap<Role, Vec<usize>> = HashMap::new();
        for (i, f) in families.iter().enumerate() {
            by_role.entry(f.role).or_default().push(i);
        }
        Ledger {
            hospitals,
            assets,
            seed,
            families,
            by_role,
            made: HashMap::new(),
        }
    }

    /// How many product lines the generator draws from.
    pub fn families(&self) -> usize {
        self.families.len()
    }

    fn pick_family(&self, role: Role, rng: &mut Rng) -> usize {
        let candidates = &self.by_role[&role];
        let weights: Vec<u32> = candidates
            .iter()
            .map(|&i| self.families[i].popularity)
            .collect();
        candidates[rng.weighted(&weights)]
    }

    fn pick_release(&self, family: usize, rng: &mut Rng) -> (usize, usize, usize) {
        let f = &self.families[family];
        let weights: Vec<u32> = f.versions.iter().map(|(_, w)| *w).collect();
        (family, rng.weighted(&weights), rng.below(f.models.len()))
    }

    fn profile(&self, rng: &mut Rng) -> Profile {
        let mut fleet = HashMap::new();
        for role in [
            Role::Firewall,
            Role::Vpn,
            Role::Switch,
            Role::Router,
            Role::WinServer,
            Role::LinuxServer,
            Role::Database,
            Role::Hypervisor,
        ] {
            let f = self.pick_family(role, rng);
            fleet.insert(role, self.pick_release(f, rng));
        }
        // One main desktop image and one or two others; two PC models.
        let main = self.pick_family(Role::Pc, rng);
        let other = self.pick_family(Role::Pc, rng);
        let pcs = vec![
            self.pick_release(main, rng),
            self.pick_release(main, rng),
            self.pick_release(other, rng),
        ];
        let devices = 12 + rng.below(14);
        let mut medical = Vec::with_capacity(devices);
        for _ in 0..devices {
            let f = self.pick_family(Role::Medical, rng);
            medical.push(self.pick_release(f, rng));
        }
        Profile {
            records_cpe: rng.chance(60),
            fleet,
            pcs,
            medical,
            patch_lag: rng.weighted(&[30, 30, 20, 10, 5, 5]),
        }
    }

    /// The role of the `i`-th of `n` assets of a hospital.
    fn role_at(i: usize, n: usize) -> Role {
        let per_mille = i * 1000 / n.max(1);
        match per_mille {
            0..10 => Role::Firewall,
            10..15 => Role::Vpn,
            15..25 => Role::Switch,
            25..30 => Role::Router,
            30..60 => Role::WinServer,
            60..80 => Role::LinuxServer,
            80..90 => Role::Database,
            90..100 => Role::Hypervisor,
            100..720 => Role::Pc,
            _ => Role::Medical,
        }
    }

    /// Every asset of every hospital, in order, as (holder, item).
    pub fn for_each(&mut self, mut sink: impl FnMut((u32, u16), InventoryItem)) {
        let n = usize::from(self.assets);
        for h in 0..self.hospitals {
            let mut rng = Rng::new(self.seed ^ u64::from(h).wrapping_mul(0xa076_1d64_78bd_642f));
            let profile = self.profile(&mut rng);
            for i in 0..n {
                let role = Self::role_at(i, n);
                let (family, mut version, mut model) = match role {
                    Role::Pc => {
                        let pick = rng.weighted(&[70, 15, 15]);
                        let (f, _, m) = profile.pcs[pick];
                        // PCs lag their hospital's patch level by a month or two.
                        let builds = self.families[f].versions.len();
                        let behind = profile.patch_lag * 2 + rng.weighted(&[60, 25, 10, 5]);
                        (f, builds.saturating_sub(1 + behind), m)
                    }
                    Role::Medical => profile.medical[rng.below(profile.medical.len())],
                    other => profile.fleet[&other],
                };
                // Not everything follows the fleet: stray releases and models.
                if rng.chance(6) {
                    version = self.pick_release(family, &mut rng).1;
                }
                if rng.chance(4) {
                    model = rng.below(self.families[family].models.len());
                }
                let cpe = profile.records_cpe && self.families[family].cpe.is_some();
                let key = (family as u32, version as u32, model as u32, cpe);
                let item = match self.made.get(&key) {
                    Some(item) => item.clone(),
                    None => {
                        let item = self.build(family, version, model, cpe);
                        self.made.insert(key, item.clone());
                        item
                    }
                };
                sink((h, i as u16), item);
            }
        }
    }

    fn build(&self, family: usize, version: usize, model: usize, with_cpe: bool) -> InventoryItem {
        let f = &self.families[family];
        let release = f.versions[version].0.clone();
        let model = f.models[model].clone();
        let mut cpes = Vec::new();
        if with_cpe && let Some(pattern) = &f.cpe {
            let folded: String = model
                .to_lowercase()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let (cpe_version, update) = match f.style {
                CpeStyle::Plain => (release.clone(), "*".to_string()),
                CpeStyle::NoVersion => ("-".to_string(), "*".to_string()),
                CpeStyle::Ivanti => match release.find('R') {
                    Some(i) => (release[..i].to_string(), release[i..].to_lowercase()),
                    None => (release.clone(), "*".to_string()),
                },
                CpeStyle::PanOs => match release.split_once("-h") {
                    Some((v, h)) => (v.to_string(), format!("h{h}")),
                    None => (release.clone(), "-".to_string()),
                },
            };
            let name = format!(
                "cpe:2.3:{}:{cpe_version}:{update}:*:*:*:*:*:*",
                pattern.replace("{m}", &folded)
            );
            cpes.push(CpeName::parse(&name).unwrap_or_else(|e| panic!("{name}: {e}")));
            if let Some(platform) = &f.platform {
                let name = format!(
                    "cpe:2.3:{}:-:*:*:*:*:*:*:*",
                    platform.replace("{m}", &folded)
                );
                cpes.push(CpeName::parse(&name).unwrap_or_else(|e| panic!("{name}: {e}")));
            }
        }
        InventoryItem {
            cpes,
            vendor: f.vendor.clone(),
            product: f.product.clone(),
            version: release,
            model,
        }
    }
}

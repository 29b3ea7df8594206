//! Complementary suppression on the grid of a table with its totals: the
//! cells plus one more column (the row totals) and one more row (the column
//! totals), whose corner is the overall total.
//!
//! A reader of the published table knows, per row, `row total = Σ cells`,
//! per column, `column total = Σ cells`, and that the overall total is the
//! sum of either margin (for a share or a mean, value × hospitals adds up
//! the same way). Every entry lies on one row line and one column line of
//! the grid. Think of the lines as nodes and the withheld entries as edges
//! between them: a withheld entry can be worked out exactly when its edge
//! lies on no cycle (a bridge), because adding up the equations on one side
//! of the bridge leaves it alone; on a cycle, adding and taking away the
//! same amount around the cycle keeps every published value, so the entry
//! could be anything.
//!
//! [`complete`] therefore withholds more entries until no line holds exactly
//! one withheld entry (the case a reader solves at a glance) and no withheld
//! entry is a bridge.

use super::Suppression;

/// Withholds entries of the `height` × `width` grid (row-major, totals
/// last) as [`Suppression::Complementary`] until none of `reasons` can be
/// worked out. `hospitals` says how many hospitals each entry rests on; the
/// entries withheld are those resting on the fewest, which loses the least.
pub(super) fn complete(
    height: usize,
    width: usize,
    hospitals: &[u32],
    reasons: &mut [Option<Suppression>],
) {
    let mut grid = Grid {
        height,
        width,
        hospitals,
        reasons,
    };
    while grid.close_single_lines() || grid.break_bridge() {}
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    Row(usize),
    Column(usize),
}

struct Grid<'a> {
    height: usize,
    width: usize,
    hospitals: &'a [u32],
    reasons: &'a mut [Option<Suppression>],
}

impl Grid<'_> {
    fn withheld(&self, at: usize) -> bool {
        self.reasons[at].is_some()
    }

    fn withhold(&mut self, at: usize) -> bool {
        if self.withheld(at) {
            return false;
        }
        self.reasons[at] = Some(Suppression::Complementary);
        true
    }

    /// The entries of a line, its cells first and its total last.
    fn members(&self, line: Line) -> Vec<usize> {
        match line {
            Line::Row(r) => (0..self.width).map(|c| r * self.width + c).collect(),
            Line::Column(c) => (0..self.height).map(|r| r * self.width + c).collect(),
        }
    }

    fn withheld_on(&self, line: Line) -> usize {
        self.members(line)
            .into_iter()
            .filter(|&at| self.withheld(at))
            .count()
    }

    /// The other line an entry of `line` lies on.
    fn crossing(&self, line: Line, at: usize) -> Line {
        match line {
            Line::Row(_) => Line::Column(at % self.width),
            Line::Column(_) => Line::Row(at / self.width),
        }
    }

    /// One pass over the lines: where a line holds exactly one withheld
    /// entry, withholds one more of its cells: preferably not an empty one,
    /// then one whose other line also holds exactly one (closing two lines
    /// at once), then the one with the fewest hospitals, then the first. A
    /// line with no cell left to withhold gives up its total.
    fn close_single_lines(&mut self) -> bool {
        let lines: Vec<Line> = (0..self.height)
            .map(Line::Row)
            .chain((0..self.width).map(Line::Column))
            .collect();
        let mut changed = false;
        for line in lines {
            if self.withheld_on(line) != 1 {
                continue;
            }
            let members = self.members(line);
            let Some((&total, cells)) = members.split_last() else {
                continue;
            };
            let pick = cells
                .iter()
                .copied()
                .filter(|&at| !self.withheld(at))
                .min_by_key(|&at| {
                    let n = self.hospitals[at];
                    let closes = self.withheld_on(self.crossing(line, at)) == 1;
                    (n == 0, !closes, n, at)
                })
                .unwrap_or(total);
            changed |= self.withhold(pick);
        }
        changed
    }

    /// The lines reachable from `start` through withheld entries other than
    /// `skip`: rows are nodes `0..height`, columns `height..height + width`.
    fn reachable(&self, start: usize, skip: usize) -> Vec<bool> {
        let mut seen = vec![false; self.height + self.width];
        let mut queue = vec![start];
        seen[start] = true;
        while let Some(node) = queue.pop() {
            let line = if node < self.height {
                Line::Row(node)
            } else {
                Line::Column(node - self.height)
            };
            for at in self.members(line) {
                if at == skip || !self.withheld(at) {
                    continue;
                }
                let next = match line {
                    Line::Row(_) => self.height + at % self.width,
                    Line::Column(_) => at / self.width,
                };
                if !seen[next] {
                    seen[next] = true;
                    queue.push(next);
                }
            }
        }
        seen
    }

    /// Finds the first withheld entry a reader could still work out (a
    /// bridge) and withholds one more entry joining its two sides, which
    /// puts it on a cycle. Prefers a cell to a total, then as
    /// [`Grid::close_single_lines`] does. Once no line holds a single
    /// withheld entry, such an entry always exists.
    fn break_bridge(&mut self) -> bool {
        for bridge in 0..self.reasons.len() {
            if !self.withheld(bridge) {
                continue;
            }
            let (row, column) = (bridge / self.width, bridge % self.width);
            let near = self.reachable(row, bridge);
            if near[self.height + column] {
                continue;
            }
            let far = self.reachable(self.height + column, bridge);
            let joins = |at: usize| {
                let (r, c) = (at / self.width, self.height + at % self.width);
                (near[r] && far[c]) || (far[r] && near[c])
            };
            let pick = (0..self.reasons.len())
                .filter(|&at| !self.withheld(at) && joins(at))
                .min_by_key(|&at| {
                    let margin =
                        at / self.width == self.height - 1 || at % self.width == self.width - 1;
                    let n = self.hospitals[at];
                    (margin, n == 0, n, at)
                });
            if let Some(pick) = pick {
                return self.withhold(pick);
            }
        }
        false
    }
}

//! The `mamori` binary's library half: the command line, what each command
//! does, and the demo programme (also used by tests and benchmarks).

pub mod advisories;
pub mod backup;
pub mod cli;
pub mod demo;
pub mod inbox;
pub mod jobs;
pub mod run;

//! Router implementations. `ModelTable` maps each virtual model to an ordered list of targets
//! (priority failover).

mod table;

pub use table::{ModelTable, VirtualModel};

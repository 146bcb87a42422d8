//! What the traffic is: arrival processes (open loop, and closed-loop workers), finite jobs,
//! request sizes and think times. Nothing here knows about the queue, the limiter or metrics.

mod arrivals;
pub mod fit;
mod sizes;
mod think;
mod tokens;
pub mod trace;

pub use arrivals::{ArrivalSpec, Arrivals, Process, Workers};
pub use sizes::{ExtraTokens, Size, SizeSampler};
pub use think::ThinkTime;
pub use tokens::{TokenDist, TokenSampler};

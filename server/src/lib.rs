//! Endpoint Analytics server: configuration, web stack, Defender integration and the simulator.

pub mod defender;
pub mod sim;

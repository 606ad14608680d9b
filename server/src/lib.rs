//! Endpoint Analytics server: configuration, web stack, accounts, and (later) the Defender
//! integration and its simulator.

pub mod auth;
pub mod backend;
pub mod config;
pub mod db;
pub mod discovery;
pub mod inventory;
pub mod keyfile;
pub mod oui;
pub mod profiles;
pub mod startup;
pub mod telemetry;
pub mod web;

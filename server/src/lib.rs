//! Endpoint Analytics server: configuration, web stack, accounts, the Defender integration and
//! its simulator.

pub mod accounts;
pub mod actions;
pub mod auth;
pub mod backend;
pub mod config;
pub mod db;
pub mod defender;
pub mod discovery;
pub mod endpoints;
pub mod integrations;
pub mod inventory;
pub mod keyfile;
pub mod leadership;
pub mod oui;
pub mod private_files;
pub mod profiles;
pub mod risk;
pub mod secret_box;
pub mod sim;
pub mod startup;
pub mod supervisor;
pub mod sync;
pub mod telemetry;
pub mod views;
pub mod web;

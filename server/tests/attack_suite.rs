//! The attack suite: the console seen from an attacker's side, one surface per module. Cases
//! other tests already cover are named in each module's docs rather than repeated.

#[path = "support/process.rs"]
mod process;
#[path = "support/app.rs"]
mod support;

#[path = "attack_suite/access.rs"]
mod access;
#[path = "attack_suite/at_rest.rs"]
mod at_rest;
#[path = "attack_suite/headers.rs"]
mod headers;
#[path = "attack_suite/hostile_names.rs"]
mod hostile_names;
#[path = "attack_suite/html.rs"]
mod html;
#[path = "attack_suite/login.rs"]
mod login;
#[path = "attack_suite/reflected.rs"]
mod reflected;
#[path = "attack_suite/secret_destination.rs"]
mod secret_destination;
#[path = "attack_suite/secret_leak.rs"]
mod secret_leak;
#[path = "attack_suite/uploads.rs"]
mod uploads;

//! `ConsoleError`: the one error every server fn returns, and the words the UI shows for it.

use serde::{Deserialize, Serialize};

/// A form field and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// What went wrong, as far as the browser needs to know. Internal failures carry only an
/// incident id: the details are in the server log, never in a response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ConsoleError {
    #[error("You are not signed in, or your session has expired.")]
    Unauthenticated,
    #[error("Your role does not allow this.")]
    Forbidden,
    /// Signed in with a password someone else chose: nothing is allowed but choosing one's own.
    #[error("Choose a new password before you continue.")]
    PasswordChangeRequired,
    #[error("Wrong username or password.")]
    InvalidCredentials,
    #[error("Too many attempts. Try again in {retry_after_secs} seconds.")]
    RateLimited { retry_after_secs: u64 },
    #[error("The request came from another site and was refused.")]
    CrossSite,
    #[error("{message}")]
    Validation { field: String, message: String },
    #[error("Some fields need attention.")]
    InvalidForm { errors: Vec<FieldError> },
    #[error("Not found.")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("Something went wrong on the server (incident {incident}).")]
    Internal { incident: String },
    #[error("The server could not be reached or answered unexpectedly: {0}")]
    Transport(String),
}

impl ConsoleError {
    /// The HTTP status a server fn answers with, so scripts and tests can rely on it.
    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthenticated | Self::InvalidCredentials => 401,
            Self::Forbidden | Self::PasswordChangeRequired | Self::CrossSite => 403,
            Self::RateLimited { .. } => 429,
            Self::Validation { .. } | Self::InvalidForm { .. } => 422,
            Self::NotFound => 404,
            Self::Conflict(_) => 409,
            Self::Internal { .. } | Self::Transport(_) => 500,
        }
    }

    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        Self::Validation {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The message for one form field, for inline messages beside its input.
    pub fn message_for(&self, name: &str) -> Option<String> {
        match self {
            Self::Validation { field, message } if field == name => Some(message.clone()),
            Self::InvalidForm { errors } => errors
                .iter()
                .find(|e| e.field == name)
                .map(|e| e.message.clone()),
            _ => None,
        }
    }
}

impl leptos::server_fn::error::FromServerFnError for ConsoleError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        Self::Transport(value.to_string())
    }
}

//! The error type returned by the fake's waiting and sending methods.

use std::fmt;

/// What went wrong while waiting on, or talking to, the fake Discord.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// Nothing matching arrived before the timeout. `message` describes what was awaited and
    /// lists what the fake did record, so a failing test shows what the bot actually sent.
    Timeout {
        /// Human-readable explanation including the recorded traffic.
        message: String,
    },
    /// Nobody asked `GET /api/v10/gateway`: the client under test is not pointed at this fake
    /// (no `HttpBuilder::proxy`, or the rate limiter is still on, which ignores the proxy).
    NotPointedAtFake {
        /// Human-readable explanation including the recorded traffic.
        message: String,
    },
    /// A gateway event was to be sent but no client has identified on the gateway.
    NotConnected {
        /// Human-readable explanation.
        message: String,
    },
    /// The fake could not start (binding the loopback port failed).
    Start {
        /// Human-readable explanation.
        message: String,
    },
}

impl Error {
    /// The human-readable explanation.
    pub fn message(&self) -> &str {
        match self {
            Error::Timeout { message }
            | Error::NotPointedAtFake { message }
            | Error::NotConnected { message }
            | Error::Start { message } => message,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Error {}

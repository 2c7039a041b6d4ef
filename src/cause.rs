//! An error in one line with the cause a person can act on: the innermost
//! source (connection refused, DNS, TLS) beside the outermost message that
//! says what was being done. Pure; used where HTTP errors are logged.

use std::error::Error;

/// Messages that say only that something failed, never why; they are left
/// out when a cause says more.
const SAYS_NOTHING: [&str; 3] = [
    "Error while sending HTTP request.",
    "client error (Connect)",
    "client error (SendRequest)",
];

/// `error` and its root cause: `what was done: why it failed`, each said
/// once. serenity's "Error while sending HTTP request." becomes, for
/// example, "error sending request for url (http://127.0.0.1:9/api/v10/
/// gateway): Connection refused (os error 111)".
pub fn with_cause(error: &(dyn Error + 'static)) -> String {
    let mut chain = Vec::new();
    let mut next = Some(error);
    while let Some(error) = next {
        chain.push(error.to_string());
        next = error.source();
    }
    let useful: Vec<&String> = chain
        .iter()
        .filter(|m| !m.trim().is_empty() && !SAYS_NOTHING.contains(&m.as_str()))
        .collect();
    match (useful.first(), useful.last()) {
        (Some(first), Some(last)) if first == last || first.contains(last.as_str()) => {
            (*first).clone()
        }
        (Some(first), Some(last)) => format!("{first}: {last}"),
        _ => chain.first().cloned().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::with_cause;
    use std::fmt;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|l| l as _)
        }
    }

    fn chain(messages: &[&'static str]) -> Layer {
        messages
            .iter()
            .rev()
            .fold(None, |inner, m| Some(Layer(m, inner.map(Box::new))))
            .unwrap_or(Layer("", None))
    }

    #[test]
    fn serenitys_empty_words_give_way_to_the_root_cause() {
        let error = chain(&[
            "Error while sending HTTP request.",
            "error sending request for url (http://127.0.0.1:9/api/v10/gateway)",
            "client error (Connect)",
            "tcp connect error: Connection refused (os error 111)",
            "Connection refused (os error 111)",
        ]);
        assert_eq!(
            with_cause(&error),
            "error sending request for url (http://127.0.0.1:9/api/v10/gateway): Connection refused (os error 111)"
        );
    }

    #[test]
    fn a_lone_error_is_said_once() {
        assert_eq!(
            with_cause(&chain(&["dns error: no such host"])),
            "dns error: no such host"
        );
        assert_eq!(
            with_cause(&chain(&["invalid peer certificate: Expired", "Expired"])),
            "invalid peer certificate: Expired"
        );
        assert_eq!(
            with_cause(&chain(&["Error while sending HTTP request."])),
            "Error while sending HTTP request."
        );
    }
}

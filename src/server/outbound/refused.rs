//! The policy's refusals, in their own file so the address checks and the client that
//! uses them both name them without importing each other.

/// Redirects followed before giving up: enough for http → https → a moved path.
pub const MAX_REDIRECTS: usize = 3;

/// Why the policy stopped a request. The text is what a user reads in the attempts log,
/// so it names the rule and nothing about the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the address is not allowed by the outbound policy")]
    Address,
    #[error("only http:// and https:// addresses are allowed")]
    Scheme,
    #[error("a configured header is not allowed by the outbound policy")]
    Header,
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
}

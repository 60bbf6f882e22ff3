//! How every answer leaves, the handler's (through the gate) or a replayed one (through
//! the replay front door): a 304 when the client has it already, the rate limit's
//! headers, the security headers. Its own module so the gate and the front door share it
//! without importing each other.

use axum::{http::HeaderValue, response::Response};

use super::{conditional, rate_limit, security_headers};

pub fn conclude(
    res: Response,
    wanted: Option<HeaderValue>,
    rate: Option<rate_limit::RateCount>,
) -> Response {
    let mut res = conditional::answer(wanted, res);
    if let Some(q) = rate {
        q.stamp(res.headers_mut());
    }
    security_headers::add(&mut res);
    res
}

//! Who is on the other end: the client's address and whether it came over HTTPS.
//!
//! Behind a reverse proxy the TCP peer is the proxy. Its `X-Forwarded-For` and
//! `X-Forwarded-Proto` are believed only when the peer is one of
//! `HEADROOM_TRUSTED_PROXIES`; from anyone else they are whatever a stranger typed, and
//! believing them would let every request claim a fresh address past the sign-in throttle.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::ConnectInfo,
    http::{Extensions, HeaderMap},
};
use ipnet::IpNet;

const FORWARDED_FOR: &str = "x-forwarded-for";
const FORWARDED_PROTO: &str = "x-forwarded-proto";

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    proxies.iter().any(|net| net.contains(&ip))
}

/// The TCP peer the front door recorded for this request.
pub fn peer(extensions: &Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// The client's address: the peer, or, while the hop in front is a trusted proxy, the
/// address that proxy says it forwarded for (`X-Forwarded-For`, read right to left).
pub fn address(peer: Option<IpAddr>, headers: &HeaderMap, proxies: &[IpNet]) -> Option<IpAddr> {
    let mut current = peer?;
    if proxies.is_empty() {
        return Some(current);
    }
    let hops: Vec<&str> = headers
        .get_all(FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        if !trusted(current, proxies) {
            break;
        }
        match hop.parse::<IpAddr>() {
            Ok(ip) => current = ip,
            // A hop we cannot read ends the chain at the last trusted proxy's word.
            Err(_) => break,
        }
    }
    Some(current)
}

/// Whether a trusted proxy says the client connected over HTTPS.
pub fn forwarded_https(peer: Option<IpAddr>, headers: &HeaderMap, proxies: &[IpNet]) -> bool {
    if proxies.is_empty() || !peer.is_some_and(|p| trusted(p, proxies)) {
        return false;
    }
    headers
        .get(FORWARDED_PROTO)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

/// Whether the client reached us over HTTPS: the setting says every request does
/// (`HEADROOM_SECURE_COOKIES`), or a trusted proxy says this one did. Cheap when no proxy
/// is configured, since every request asks. The one answer for cookies and HSTS alike.
pub fn is_https(
    settings: &crate::server::config::Settings,
    peer: Option<IpAddr>,
    headers: &HeaderMap,
) -> bool {
    settings.security.secure_cookies
        || (!settings.security.trusted_proxies.is_empty()
            && forwarded_https(peer, headers, &settings.security.trusted_proxies))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                v.parse().expect("value"),
            );
        }
        h
    }

    fn nets(s: &str) -> Vec<IpNet> {
        crate::server::config::parse_ip_ranges(s).expect("cidrs")
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let h = headers(&[("x-forwarded-for", "203.0.113.7")]);
        let proxy = Some(IpAddr::from([127, 0, 0, 1]));
        let stranger = Some(IpAddr::from([198, 51, 100, 1]));
        assert_eq!(address(proxy, &h, &[]), proxy, "no proxies configured");
        assert_eq!(address(stranger, &h, &nets("127.0.0.1")), stranger);
        assert_eq!(
            address(proxy, &h, &nets("127.0.0.1")),
            Some(IpAddr::from([203, 0, 113, 7]))
        );
    }

    #[test]
    fn the_chain_is_read_right_to_left_through_trusted_hops_only() {
        // The client forged the first entry; the outer proxy (10.0.0.2) appended the real
        // client, and the inner proxy appended the outer one.
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4, 203.0.113.7"),
            ("x-forwarded-for", "10.0.0.2"),
        ]);
        let peer = Some(IpAddr::from([127, 0, 0, 1]));
        assert_eq!(
            address(peer, &h, &nets("127.0.0.0/8, 10.0.0.0/8")),
            Some(IpAddr::from([203, 0, 113, 7]))
        );
        let garbage = headers(&[("x-forwarded-for", "not-an-ip")]);
        assert_eq!(address(peer, &garbage, &nets("127.0.0.1")), peer);
    }

    #[test]
    fn https_is_believed_only_from_trusted_proxies() {
        let h = headers(&[("x-forwarded-proto", "https")]);
        let proxy = Some(IpAddr::from([127, 0, 0, 1]));
        assert!(forwarded_https(proxy, &h, &nets("127.0.0.1/32")));
        assert!(!forwarded_https(proxy, &h, &[]));
        assert!(!forwarded_https(
            Some(IpAddr::from([198, 51, 100, 1])),
            &h,
            &nets("127.0.0.1/32")
        ));
        let mapped = Some("::ffff:127.0.0.1".parse().expect("v6"));
        assert!(forwarded_https(mapped, &h, &nets("127.0.0.1/32")));
    }
}

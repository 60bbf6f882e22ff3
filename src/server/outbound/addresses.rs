//! Which IP addresses the server may connect to on a user's behalf.
//!
//! A member chooses the URL, so without this an answer from loopback, the LAN or a cloud
//! metadata service could come back to them as readings. Everything not globally routed is
//! refused; an administrator can open chosen ranges (`HEADROOM_OUTBOUND_ALLOW`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use reqwest::Url;
use url::Host;

use super::refused::Refused;

/// Cloud metadata services answer with the machine's own credentials: never reachable,
/// whatever the allow-list opens around them.
const METADATA: [IpAddr; 2] = [
    IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)),
];

/// IPv4 ranges that are not public unicast: this network (incl. 0.0.0.0), RFC 1918,
/// CGNAT, loopback, link-local, IETF assignments, the documentation and benchmarking
/// nets, the old 6to4 relay, multicast, and the reserved block up to the broadcast address.
const NOT_PUBLIC_V4: [(Ipv4Addr, u32); 15] = [
    (Ipv4Addr::new(0, 0, 0, 0), 8),
    (Ipv4Addr::new(10, 0, 0, 0), 8),
    (Ipv4Addr::new(100, 64, 0, 0), 10),
    (Ipv4Addr::new(127, 0, 0, 0), 8),
    (Ipv4Addr::new(169, 254, 0, 0), 16),
    (Ipv4Addr::new(172, 16, 0, 0), 12),
    (Ipv4Addr::new(192, 0, 0, 0), 24),
    (Ipv4Addr::new(192, 0, 2, 0), 24),
    (Ipv4Addr::new(192, 88, 99, 0), 24),
    (Ipv4Addr::new(192, 168, 0, 0), 16),
    (Ipv4Addr::new(198, 18, 0, 0), 15),
    (Ipv4Addr::new(198, 51, 100, 0), 24),
    (Ipv4Addr::new(203, 0, 113, 0), 24),
    (Ipv4Addr::new(224, 0, 0, 0), 4),
    (Ipv4Addr::new(240, 0, 0, 0), 4),
];

/// IPv6 ranges inside global unicast (2000::/3) that are still not public: IETF protocol
/// assignments (Teredo, benchmarking, ORCHID…) and the two documentation nets.
const NOT_PUBLIC_V6: [(Ipv6Addr, u32); 3] = [
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23),
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32),
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20),
];

fn in_v4(ip: Ipv4Addr, (net, len): (Ipv4Addr, u32)) -> bool {
    let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
    u32::from(ip) & mask == u32::from(net) & mask
}

fn in_v6(ip: Ipv6Addr, (net, len): (Ipv6Addr, u32)) -> bool {
    let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
    u128::from(ip) & mask == u128::from(net) & mask
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    !NOT_PUBLIC_V4.iter().any(|&range| in_v4(ip, range))
}

/// The IPv4 address an IPv6 one stands for, where the network would carry it to that
/// IPv4 address: NAT64 (64:ff9b::/96) and 6to4 (2002::/16). IPv4-mapped addresses are
/// turned into IPv4 before this by `to_canonical`.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = u128::from(ip);
    if in_v6(ip, (Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96)) {
        return Some(Ipv4Addr::from(bits as u32));
    }
    if in_v6(ip, (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16)) {
        return Some(Ipv4Addr::from((bits >> 80) as u32));
    }
    None
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    // Only 2000::/3 is global unicast; outside it are ::/8 (unspecified, loopback,
    // IPv4-compatible), the local-use NAT64 and discard prefixes, unique-local fc00::/7,
    // link-local fe80::/10, the old site-local fec0::/10 and multicast ff00::/8.
    in_v6(ip, (Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3))
        && !NOT_PUBLIC_V6.iter().any(|&range| in_v6(ip, range))
}

/// Whether `ip` is a public unicast address. IPv4-mapped IPv6 (::ffff:a.b.c.d) counts as
/// the IPv4 address it maps to, since that is where a connection to it goes.
pub fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

/// The address rules: public addresses, plus the ranges an administrator opened, never a
/// metadata service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    allow: Vec<IpNet>,
}

impl Policy {
    pub fn new(allow: Vec<IpNet>) -> Self {
        Policy { allow }
    }

    pub fn from_settings(settings: &crate::server::config::Settings) -> Self {
        Policy::new(settings.security.outbound_allow.clone())
    }

    /// Whether the server may connect to `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let canonical = ip.to_canonical();
        if METADATA.contains(&canonical) {
            return false;
        }
        is_public(canonical)
            || self
                .allow
                .iter()
                .any(|net| net.contains(&canonical) || net.contains(&ip))
    }

    /// Whether the URL's host is an IP literal inside a range an administrator opened
    /// (`HEADROOM_OUTBOUND_ALLOW`): where a plain-`http` push service is accepted (a test
    /// rig, a self-hosted relay on the LAN), since elsewhere only `https` is.
    pub fn opened(&self, url: &Url) -> bool {
        let ip = match url.host() {
            Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
            _ => return false,
        };
        self.permits(ip)
            && self
                .allow
                .iter()
                .any(|net| net.contains(&ip.to_canonical()))
    }

    /// Checks what can be checked of a URL without resolving it: the scheme, and the
    /// address when the host is an IP literal (the client does not resolve those, so
    /// they never reach the policy's resolver).
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused::Scheme);
        }
        let literal = match url.host() {
            Some(Host::Domain(_)) => return Ok(()),
            Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
            None => return Err(Refused::Address),
        };
        if self.permits(literal) {
            Ok(())
        } else {
            Err(Refused::Address)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an IP literal")
    }

    #[test]
    fn local_private_and_reserved_ipv4_is_not_public() {
        for s in [
            "0.0.0.0",
            "0.1.2.3",
            "10.1.2.3",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.0.9",
            "169.254.169.254",
            "169.254.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.170",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!is_public(ip(s)), "{s} counted as public");
        }
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.169.0.1",
            "198.20.0.1",
            "223.255.255.255",
        ] {
            assert!(is_public(ip(s)), "{s} refused");
        }
    }

    #[test]
    fn local_private_and_reserved_ipv6_is_not_public() {
        for s in [
            "::",
            "::1",
            "::127.0.0.1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "fc00::1",
            "fd00:ec2::254",
            "ff02::1",
            "100::1",
            "64:ff9b:1::1",
            "2001::1",
            "2001:db8::1",
            "3fff::1",
        ] {
            assert!(!is_public(ip(s)), "{s} counted as public");
        }
        for s in ["2606:4700:4700::1111", "2a00:1450:4001::200e"] {
            assert!(is_public(ip(s)), "{s} refused");
        }
    }

    #[test]
    fn ipv6_forms_of_ipv4_addresses_count_as_the_ipv4_address() {
        for s in [
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
        ] {
            assert!(!is_public(ip(s)), "{s} counted as public");
        }
        for s in ["::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"] {
            assert!(is_public(ip(s)), "{s} refused");
        }
    }

    #[test]
    fn the_allow_list_opens_ranges_but_never_the_metadata_services() {
        let policy = Policy::new(vec![
            "192.168.1.0/24".parse().expect("cidr"),
            "127.0.0.1/32".parse().expect("cidr"),
            "169.254.0.0/16".parse().expect("cidr"),
            "fc00::/7".parse().expect("cidr"),
        ]);
        assert!(policy.permits(ip("192.168.1.1")));
        assert!(policy.permits(ip("::ffff:192.168.1.254")));
        assert!(!policy.permits(ip("192.168.2.1")));
        assert!(policy.permits(ip("127.0.0.1")));
        assert!(!policy.permits(ip("127.0.0.2")));
        assert!(!policy.permits(ip("::1")));
        assert!(policy.permits(ip("169.254.1.1")));
        assert!(!policy.permits(ip("169.254.169.254")));
        assert!(!policy.permits(ip("::ffff:169.254.169.254")));
        assert!(policy.permits(ip("fd12::1")));
        assert!(!policy.permits(ip("fd00:ec2::254")));
        assert!(policy.permits(ip("8.8.8.8")));
        assert!(!Policy::default().permits(ip("192.168.1.1")));
    }

    #[test]
    fn urls_are_checked_by_scheme_and_ip_literal() {
        let policy = Policy::default();
        let check = |s: &str| policy.check_url(&Url::parse(s).expect("url"));
        assert_eq!(check("https://isp.example/usage"), Ok(()));
        assert_eq!(
            check("http://localhost:8080/"),
            Ok(()),
            "names wait for resolution"
        );
        assert_eq!(check("http://8.8.8.8/"), Ok(()));
        assert_eq!(check("ftp://8.8.8.8/"), Err(Refused::Scheme));
        assert_eq!(check("file:///etc/passwd"), Err(Refused::Scheme));
        for s in [
            "http://127.0.0.1:3000/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://[::1]/",
            "http://[::ffff:7f00:1]/",
            "http://169.254.169.254/latest/meta-data",
            "http://[fd00:ec2::254]/",
            "https://10.0.0.1/",
        ] {
            assert_eq!(check(s), Err(Refused::Address), "{s}");
        }
    }
}

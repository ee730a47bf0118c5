//! Network addresses: where a request came from, and where the server may
//! send its own requests.
//!
//! The client address is the connection's peer. A forwarding header is
//! believed only when that peer is a proxy the operator configured
//! (`trusted_proxies`), and then only up to the first hop that is not
//! one: the rightmost untrusted address of `X-Forwarded-For`. Anything a
//! client writes into the header itself stands to the left of that and is
//! never read.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

/// The address a request came from, as the server determined it. The
/// server puts it into every request's extensions; handlers and server
/// functions read it from there and nowhere else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// Who did something, as the connection shows them: the address and the
/// browser (kept with a signature and shown in its PDF).
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: String,
    pub user_agent: String,
}

impl Client {
    /// The request's client address as the server determined it (the
    /// connection, or a configured proxy's rightmost hop: see
    /// this module) and the user agent, cut to its column size.
    pub fn from_request(parts: &axum::http::request::Parts) -> Self {
        Self::new(parts.extensions.get(), &parts.headers)
    }

    pub fn new(addr: Option<&ClientAddr>, headers: &axum::http::HeaderMap) -> Self {
        Client {
            ip: addr.map(|a| a.0.to_string()).unwrap_or_default(),
            user_agent: headers
                .get(axum::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .chars()
                .filter(|c| !c.is_control())
                .take(400)
                .collect(),
        }
    }
}

/// The client of a connection from `peer` that carried these
/// `X-Forwarded-For` values (in header order).
pub fn client_addr(peer: IpAddr, forwarded_for: &[&str], trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded_for
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            // Garbage from here on leftwards: the last good hop is all we know.
            return client;
        };
        client = ip;
        if !is_trusted(&ip) {
            return ip;
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, perhaps with a port or brackets.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            hop.strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .and_then(|h| h.parse().ok())
        })
}

/// Whether `ip` is an address on the public internet: not loopback,
/// private, link-local, shared (CGNAT), documentation, multicast or
/// otherwise reserved, also when written as an IPv4-mapped IPv6 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
                || first == 0x2001 && v6.segments()[1] == 0x0db8
                // Teredo and 6to4 wrap IPv4 addresses, private ones too.
                || first == 0x2001 && v6.segments()[1] == 0
                || first == 0x2002
                // Site-local (deprecated, still routed inside some networks).
                || (first & 0xffc0) == 0xfec0
                || first == 0x0064 && v6.segments()[1] == 0xff9b
                || first == 0)
        }
    }
}

/// Checks that `uri` names a host on the public internet: its literal
/// address, or every address its name resolves to. The reason is fit for
/// an administrator's eyes.
pub async fn check_public_host(host: &str, port: u16) -> Result<(), String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return if is_public(ip) {
            Ok(())
        } else {
            Err(format!(
                "{host} is a loopback or private address; the operator has not allowed those (sso.allow_private_addresses)"
            ))
        };
    }
    if bare.eq_ignore_ascii_case("localhost") || bare.ends_with(".localhost") {
        return Err(format!(
            "{host} is this machine; the operator has not allowed loopback or private addresses (sso.allow_private_addresses)"
        ));
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((bare, port))
        .await
        .map_err(|e| format!("{host} cannot be resolved: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("{host} has no address"));
    }
    match addrs.iter().find(|a| !is_public(a.ip())) {
        Some(a) => Err(format!(
            "{host} resolves to {}, a loopback or private address; the operator has not allowed those (sso.allow_private_addresses)",
            a.ip()
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        // No trusted proxy: the header is the client's own words.
        assert_eq!(client_addr(peer, &["1.2.3.4"], &[]), peer);
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let trusted = nets(&["10.0.0.0/8"]);
        // Behind the proxy: the rightmost hop the proxy added.
        assert_eq!(
            client_addr(proxy, &["1.2.3.4, 198.51.100.7"], &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        // A forged first value stays to the left and is never read.
        assert_eq!(
            client_addr(proxy, &["6.6.6.6", "198.51.100.7"], &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        // Two trusted proxies in a row are skipped.
        assert_eq!(
            client_addr(proxy, &["198.51.100.7, 10.0.0.5"], &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        // Garbage: the last trusted hop.
        assert_eq!(client_addr(proxy, &["<script>"], &trusted), proxy);
        assert_eq!(
            client_addr(proxy, &["[2001:db8::1]:443"], &trusted),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "255.255.255.255",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "1.1.1.1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}

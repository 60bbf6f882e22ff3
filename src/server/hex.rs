//! Lower-case hex written by hand, for the strings built on every request (session cache
//! keys, ETags, request ids), where `format!("{:x}")` showed up in profiles: it allocates
//! and runs the formatting machinery per value, or per byte.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// The hex digit of the low four bits of `n`.
pub fn digit(n: u64) -> u8 {
    DIGITS[(n & 0xf) as usize]
}

/// `bytes` in hex, two digits each, appended to `out`.
pub fn push_bytes(out: &mut String, bytes: &[u8]) {
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(digit(u64::from(b >> 4))));
        out.push(char::from(digit(u64::from(b))));
    }
}

/// `n` as exactly 16 hex digits, leading zeros kept.
pub fn fixed_u64(n: u64) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (i, d) in out.iter_mut().enumerate() {
        *d = digit(n >> (60 - 4 * i));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_formatter() {
        let mut s = String::new();
        push_bytes(&mut s, &[0x00, 0x0f, 0xa5, 0xff]);
        assert_eq!(s, "000fa5ff");
        for n in [0, 1, 0xff, 0x48d1_9e77_ae77_b173, u64::MAX] {
            assert_eq!(fixed_u64(n), format!("{n:016x}").as_bytes());
        }
    }
}

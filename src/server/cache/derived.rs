//! What is worth computing from a cached value once and keeping beside it for its life:
//! its compressed copies (a hot JSON body is compressed once, not once per response) and
//! its decoded form (a session's user is parsed once, not on every request).
//!
//! A `Derived` is shared by the in-process entry and every `Hit` handed out for it, and
//! dies with the entry. The bytes tier weighs only the raw value: the compressed copies
//! are each smaller than it, and only encodings that clients asked for are made.

use std::{
    any::Any,
    io::Write,
    sync::{Arc, OnceLock},
};

use bytes::Bytes;
use serde::de::DeserializeOwned;

/// Below this many bytes a body goes out as it is: compression would not pay for its
/// headers. One threshold for cached JSON, whole pages and the streaming compressor.
pub const COMPRESS_ABOVE_BYTES: u16 = 1024;

/// A content coding Headroom can send, in the order it prefers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Br,
    Zstd,
    Gzip,
}

impl Encoding {
    const ALL: [Encoding; 3] = [Encoding::Br, Encoding::Zstd, Encoding::Gzip];

    pub fn token(self) -> &'static str {
        match self {
            Encoding::Br => "br",
            Encoding::Zstd => "zstd",
            Encoding::Gzip => "gzip",
        }
    }

    /// The best coding an `Accept-Encoding` value allows (`q=0` refuses one), for a body
    /// compressed once and sent many times: the smallest first.
    pub fn preferred(accept: &str) -> Option<Encoding> {
        Self::first_accepted(accept, Encoding::ALL)
    }

    /// The first of `order` that `accept` allows.
    pub fn first_accepted(accept: &str, order: [Encoding; 3]) -> Option<Encoding> {
        order.into_iter().find(|&e| e.accepted_by(accept))
    }

    fn accepted_by(self, accept: &str) -> bool {
        accept.split(',').any(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            name.eq_ignore_ascii_case(self.token()) && !refused
        })
    }

    /// `raw` compressed with this coding, at the effort its use can afford.
    pub fn compress(self, raw: &[u8], effort: Effort) -> Option<Vec<u8>> {
        let once = effort == Effort::Once;
        match self {
            Encoding::Br => {
                let mut out = Vec::with_capacity(raw.len() / 4);
                {
                    // Per response: quality 4, as tower-http (and nginx) use on the fly,
                    // with a 256 KiB window, which holds any page whole and is cheap to set
                    // up (the 4 MB default window dominated a page's compression time).
                    // Once per cache entry: quality 9, except for big entries (a year's
                    // chart series is ~60 KB), where 9 took ~12 ms of a cold answer's
                    // 10 ms budget (`bench/run series`) and 5 takes about one, ~10 % larger.
                    let (quality, lgwin) = match (once, raw.len()) {
                        (true, n) if n <= BIG_ENTRY => (9, 20),
                        (true, _) => (5, 20),
                        (false, _) => (4, 18),
                    };
                    let mut w = brotli::CompressorWriter::new(&mut out, 4096, quality, lgwin);
                    w.write_all(raw).ok()?;
                }
                Some(out)
            }
            Encoding::Zstd => zstd::bulk::compress(raw, if once { 9 } else { 3 }).ok(),
            Encoding::Gzip => {
                let mut w = flate2::write::GzEncoder::new(
                    Vec::with_capacity(raw.len() / 4),
                    flate2::Compression::new(if once { 9 } else { 6 }),
                );
                w.write_all(raw).ok()?;
                w.finish().ok()
            }
        }
    }
}

/// Entries above this many bytes are compressed at a quality that costs about a
/// millisecond, even once.
const BIG_ENTRY: usize = 16 * 1024;

/// How hard to compress: a cached value is compressed once and sent many times, so it gets
/// high levels; a body made for one response gets levels that cost well under a
/// millisecond for a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    Once,
    PerResponse,
}

#[derive(Default)]
pub struct Derived {
    encoded: [OnceLock<Option<Bytes>>; 3],
    decoded: OnceLock<Arc<dyn Any + Send + Sync>>,
}

impl std::fmt::Debug for Derived {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Derived").finish_non_exhaustive()
    }
}

impl Derived {
    /// `raw` compressed with `encoding`, made on first use.
    pub fn encoded(&self, encoding: Encoding, raw: &[u8]) -> Option<Bytes> {
        let slot = &self.encoded[encoding as usize];
        slot.get_or_init(|| encoding.compress(raw, Effort::Once).map(Bytes::from))
            .clone()
    }

    /// `raw` parsed as `T`, parsed on first use. A value read as another type before
    /// (never the case for one key, but cheap to allow) is parsed afresh each time.
    pub fn decoded<T>(&self, raw: &[u8]) -> Option<Arc<T>>
    where
        T: DeserializeOwned + Send + Sync + 'static,
    {
        if let Some(any) = self.decoded.get() {
            if let Ok(v) = Arc::clone(any).downcast::<T>() {
                return Some(v);
            }
            return serde_json::from_slice(raw).ok().map(Arc::new);
        }
        let v: Arc<T> = Arc::new(serde_json::from_slice(raw).ok()?);
        let _ = self.decoded.set(v.clone());
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn accept_encoding_preference_and_refusal() {
        assert_eq!(Encoding::preferred("gzip, br"), Some(Encoding::Br));
        assert_eq!(Encoding::preferred("gzip, deflate"), Some(Encoding::Gzip));
        assert_eq!(Encoding::preferred("br;q=0, zstd"), Some(Encoding::Zstd));
        assert_eq!(Encoding::preferred("identity"), None);
        assert_eq!(Encoding::preferred(""), None);
    }

    #[test]
    fn compressed_copies_round_trip_and_are_made_once() {
        let raw = br#"{"days":[1,2,3,4,5,6,7,8,9,10,1,2,3,4,5,6,7,8,9,10,1,2,3,4,5,6,7,8,9,10]}"#
            .repeat(40);
        let d = Derived::default();
        let br = d.encoded(Encoding::Br, &raw).expect("br");
        assert!(br.len() < raw.len() / 4);
        assert_eq!(
            br.as_ptr(),
            d.encoded(Encoding::Br, &raw).expect("br").as_ptr()
        );
        let mut out = Vec::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_end(&mut out)
            .expect("unbrotli");
        assert_eq!(out, raw);
        let gz = d.encoded(Encoding::Gzip, &raw).expect("gzip");
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut out)
            .expect("gunzip");
        assert_eq!(out, raw);
        let z = d.encoded(Encoding::Zstd, &raw).expect("zstd");
        assert_eq!(zstd::bulk::decompress(&z, 1 << 20).expect("unzstd"), raw);
    }

    #[test]
    fn decoded_once_and_shared() {
        let d = Derived::default();
        let a = d.decoded::<Vec<u32>>(b"[1,2,3]").expect("parses");
        let b = d.decoded::<Vec<u32>>(b"[1,2,3]").expect("parses");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(*a, vec![1, 2, 3]);
        assert_eq!(d.decoded::<String>(b"[1,2,3]"), None);
    }
}

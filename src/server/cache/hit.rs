//! A cached value as callers get it: its bytes, their hash (the ETag), where it came
//! from, and what is derived from it once per entry.

use std::sync::Arc;

use serde::{Serialize, de::DeserializeOwned};

use super::{
    derived::{Derived, Encoding},
    strategy::Strategy,
};

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Memory,
    Redis,
    Computed,
}

/// A cached value: its bytes (JSON), a hash of them for ETags, and where it came from.
#[derive(Debug, Clone)]
pub struct Hit {
    pub bytes: Arc<[u8]>,
    pub etag: u64,
    pub source: Source,
    pub strategy: Strategy,
    /// Compressed copies and the decoded value, shared with the in-process entry.
    pub derived: Arc<Derived>,
}

impl Hit {
    pub(crate) fn new(bytes: Arc<[u8]>, source: Source, strategy: Strategy) -> Self {
        let etag = xxhash_rust::xxh3::xxh3_64(&bytes);
        Hit {
            bytes,
            etag,
            source,
            strategy,
            derived: Arc::default(),
        }
    }

    pub fn cached(&self) -> bool {
        self.source != Source::Computed
    }

    /// The value as `T`; `None` if the bytes are not a `T` (an older format, say).
    pub fn json<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_slice(&self.bytes).ok()
    }

    /// The value as `T`, parsed once per cached entry and shared by every reader of it.
    pub fn decoded<T: DeserializeOwned + Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.derived.decoded(&self.bytes)
    }

    /// The value compressed with `encoding`, compressed once per cached entry.
    pub fn encoded(&self, encoding: Encoding) -> Option<bytes::Bytes> {
        self.derived.encoded(encoding, &self.bytes)
    }
}

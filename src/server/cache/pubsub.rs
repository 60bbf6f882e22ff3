//! Invalidation between instances: every instance publishes what it invalidates on one
//! Redis channel and listens to the others (`Cache::listen`). This is the message.

/// What one instance tells the others to drop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidation {
    Key(String),
    Tag(String),
    Prefix(String),
}

const SEP: char = '\u{1f}';

impl Invalidation {
    pub fn encode(&self, origin: &str) -> String {
        let (kind, value) = match self {
            Invalidation::Key(v) => ('k', v),
            Invalidation::Tag(v) => ('t', v),
            Invalidation::Prefix(v) => ('p', v),
        };
        format!("{origin}{SEP}{kind}{SEP}{value}")
    }

    /// The sender and the invalidation, or `None` for a malformed message.
    pub fn decode(message: &str) -> Option<(&str, Invalidation)> {
        let mut parts = message.splitn(3, SEP);
        let origin = parts.next()?;
        let kind = parts.next()?;
        let value = parts.next()?.to_string();
        let inv = match kind {
            "k" => Invalidation::Key(value),
            "t" => Invalidation::Tag(value),
            "p" => Invalidation::Prefix(value),
            _ => return None,
        };
        Some((origin, inv))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_junk_is_ignored() {
        for inv in [
            Invalidation::Key("outlook:u1:20412".into()),
            Invalidation::Tag("user:1".into()),
            Invalidation::Prefix(String::new()),
        ] {
            let text = inv.encode("a1b2");
            assert_eq!(Invalidation::decode(&text), Some(("a1b2", inv)));
        }
        assert_eq!(Invalidation::decode("nonsense"), None);
        assert_eq!(Invalidation::decode("o\u{1f}x\u{1f}v"), None);
    }
}

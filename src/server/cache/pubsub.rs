//! Invalidation between instances. Every instance publishes what it invalidates on one
//! Redis channel and listens to the others. A listener that lost its connection may have
//! missed messages, so on every (re)subscription it empties its in-process tier: a few
//! cache misses are the price of never serving another instance's stale value.

use std::time::Duration;

use futures::StreamExt;

use super::Cache;

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

/// Listens until the process ends, reconnecting with a short pause when Redis goes away.
pub async fn listen(cache: Cache) {
    let Some(redis) = cache.redis.clone() else {
        return;
    };
    loop {
        match tokio::time::timeout(Duration::from_secs(1), redis.client().get_async_pubsub()).await
        {
            Ok(Ok(mut pubsub)) => {
                if pubsub.subscribe(redis.channel()).await.is_ok() {
                    // Whatever was published while we were away is lost: start clean.
                    cache.memory.remove_prefix("").await;
                    cache.bump_generation();
                    tracing::info!("listening for cache invalidations from other instances");
                    let mut messages = pubsub.on_message();
                    while let Some(msg) = messages.next().await {
                        if let Ok(text) = msg.get_payload::<String>() {
                            cache.apply_remote(&text).await;
                        }
                    }
                    tracing::warn!("lost the cache invalidation channel; reconnecting");
                }
            }
            Ok(Err(e)) => tracing::debug!(error = %e, "redis pub/sub unavailable"),
            Err(_) => tracing::debug!("redis pub/sub connect timed out"),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
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

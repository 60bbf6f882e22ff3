use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

fn cache() -> Cache {
    Cache::new(CacheOptions::in_process()).expect("cache")
}

#[tokio::test]
async fn concurrent_misses_compute_once() {
    let cache = cache();
    let runs = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (cache, runs) = (cache.clone(), runs.clone());
            tokio::spawn(async move {
                cache
                    .get_or_compute(Strategy::Outlook, "outlook:u1:1", &[], || async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok::<_, std::convert::Infallible>(b"{\"v\":1}".to_vec())
                    })
                    .await
            })
        })
        .collect();
    for t in tasks {
        let hit = t.await.expect("task").expect("value");
        assert_eq!(&*hit.bytes, b"{\"v\":1}");
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let stats = cache.stats().await;
    let outlook = stats
        .strategies
        .iter()
        .find(|s| s.strategy == "outlook")
        .expect("row");
    assert_eq!(outlook.computations, 1);
    assert!(
        cache.flights.lock().expect("lock").is_empty(),
        "flights are cleaned up"
    );
}

#[tokio::test]
async fn a_failed_computation_is_not_cached_and_the_next_caller_retries() {
    let cache = cache();
    let failed: Result<Hit, &str> = cache
        .get_or_compute(Strategy::Dashboard, "dashboard:x", &[], || async {
            Err("db down")
        })
        .await;
    assert!(failed.is_err());
    let ok: Result<Hit, &str> = cache
        .get_or_compute(Strategy::Dashboard, "dashboard:x", &[], || async {
            Ok(b"1".to_vec())
        })
        .await;
    assert_eq!(ok.map(|h| h.source), Ok(Source::Computed));
    let again = cache
        .get(Strategy::Dashboard, "dashboard:x")
        .await
        .expect("cached");
    assert_eq!(again.source, Source::Memory);
}

#[tokio::test]
async fn a_value_computed_across_an_invalidation_is_not_kept() {
    let cache = cache();
    let tags = vec!["user:1".to_string()];
    let hit: Result<Hit, std::convert::Infallible> = cache
        .get_or_compute(Strategy::Outlook, "outlook:u1:2", &tags, || async {
            // A write lands while this (now outdated) value is being computed.
            cache.invalidate_tags(&["user:1".to_string()]).await;
            Ok(b"old".to_vec())
        })
        .await;
    assert_eq!(hit.map(|h| h.source), Ok(Source::Computed));
    assert!(cache.get(Strategy::Outlook, "outlook:u1:2").await.is_none());
}

#[tokio::test]
async fn tags_invalidate_and_statistics_count_hits_and_misses() {
    let cache = cache();
    let tags = vec!["meter:3".to_string()];
    cache
        .put(Strategy::Timeline, "timeline:m3", &tags, b"[1]".to_vec())
        .await;
    assert!(cache.get(Strategy::Timeline, "timeline:m3").await.is_some());
    cache.invalidate_tags(&tags).await;
    assert!(cache.get(Strategy::Timeline, "timeline:m3").await.is_none());
    let stats = cache.stats().await;
    let t = stats
        .strategies
        .iter()
        .find(|s| s.strategy == "timeline")
        .expect("row");
    assert_eq!((t.hits, t.misses), (1, 1));
    assert_eq!(t.hit_rate, Some(0.5));
    assert_eq!(stats.redis.status, "disabled");
}

#[test]
fn patterns_take_a_trailing_star_only() {
    assert_eq!(
        Pattern::parse("outlook:*"),
        Some(Pattern::Prefix("outlook:".into()))
    );
    assert_eq!(Pattern::parse("*"), Some(Pattern::Prefix(String::new())));
    assert_eq!(
        Pattern::parse("outlook:u1:5"),
        Some(Pattern::Exact("outlook:u1:5".into()))
    );
    assert_eq!(Pattern::parse("out*look"), None);
    assert_eq!(Pattern::parse(""), None);
}

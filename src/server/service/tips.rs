//! Tips of the day, written by admins. A change reaches everyone's outlook at the next read
//! (stored outlooks are marked stale).

use serde::Deserialize;

use crate::{
    domain::outlook::tips::check_template,
    server::{
        service::{ServiceError, ServiceResult, freshness},
        state::AppState,
        storage::outlooks::TipRow,
    },
};

pub use crate::dto::TipView;

impl From<TipRow> for TipView {
    fn from(t: TipRow) -> Self {
        TipView {
            id: t.id,
            title: t.title,
            body: t.body,
            active: t.active,
        }
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct TipInput {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

pub async fn list(state: &AppState) -> ServiceResult<Vec<TipView>> {
    Ok(state
        .db
        .tips()
        .await?
        .into_iter()
        .map(TipView::from)
        .collect())
}

pub async fn create(state: &AppState, input: &TipInput) -> ServiceResult<TipView> {
    check_template(&input.title, &input.body)?;
    let id = state
        .db
        .create_tip(
            input.title.trim(),
            input.body.trim(),
            state.clock.now_secs(),
        )
        .await?;
    state.db.stale_all_outlooks().await?;
    freshness::all_outlooks_changed(state).await;
    Ok(TipView {
        id,
        title: input.title.trim().into(),
        body: input.body.trim().into(),
        active: true,
    })
}

pub async fn update(state: &AppState, id: i64, input: &TipInput) -> ServiceResult<TipView> {
    check_template(&input.title, &input.body)?;
    if !state
        .db
        .update_tip(
            id,
            input.title.trim(),
            input.body.trim(),
            input.active,
            state.clock.now_secs(),
        )
        .await?
    {
        return Err(ServiceError::NotFound);
    }
    state.db.stale_all_outlooks().await?;
    freshness::all_outlooks_changed(state).await;
    Ok(TipView {
        id,
        title: input.title.trim().into(),
        body: input.body.trim().into(),
        active: input.active,
    })
}

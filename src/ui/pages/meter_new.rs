//! `/meters/new`: add a meter.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    dto::SessionUser,
    ui::components::{header::AppHeader, meter_form::MeterForm},
};

#[component]
pub fn NewMeterPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server_fns::require_user_or_redirect();
    let timezone = use_context::<SessionUser>().map_or_else(|| "UTC".to_string(), |u| u.timezone);
    view! {
        <Title text="Add a meter · Headroom" />
        <AppHeader />
        <main class="page narrow-form" id="main">
            <h1>"Add a meter"</h1>
            <MeterForm meter=None action="/meters/new".to_string() submit="Add meter" default_timezone=timezone />
        </main>
    }
}

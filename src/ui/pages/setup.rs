//! `/setup`: the first administrator of a fresh install, with the setup code the server
//! printed when it started. A plain form, so it works before the WebAssembly loads.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::ui::components::field::{Field, FieldError};

#[component]
pub fn SetupPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        // Once an account exists there is nothing to set up (the form is refused too).
        let done = crate::server_fns::app_state().is_ok_and(|s| !s.first_run.needed());
        if crate::server_fns::request_user().is_some() {
            crate::server_fns::redirect_page("/");
        } else if done {
            crate::server_fns::redirect_page("/login");
        }
    }
    view! {
        <Title text="Set up · Headroom" />
        <main class="page narrow" id="main">
            <h1 class="brand">"Headroom"</h1>
            <p class="lede">"Welcome. Create the first account: it will be the administrator."</p>
            <form method="post" action="/forms/setup" class="card stack" data-testid="setup-form">
                <h2>"Set up"</h2>
                <Field form="setup" name="setup_code" label="Setup code" required=true autocomplete="off"
                    hint="Printed by the server when it started (also in its log)." />
                <Field form="setup" name="email" label="Email" input_type="email" required=true autocomplete="username" />
                <Field form="setup" name="display_name" label="Your name" required=true autocomplete="name" />
                <div class="field">
                    <label for="setup-password">"Password"</label>
                    <input id="setup-password" type="password" name="password" minlength="8" maxlength="1024" autocomplete="new-password" required />
                    <FieldError form="setup" name="password" />
                </div>
                <button type="submit" class="button primary">"Create administrator"</button>
            </form>
        </main>
    }
}

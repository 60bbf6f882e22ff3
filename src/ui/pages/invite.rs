//! `/invite/:secret` (accept an invitation) and `/reset/:secret` (set a new password):
//! the pages of single-use links. Plain forms; the secret stays in the address.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    dto::{SessionUser, accounts::InvitePreview},
    server_fns::accounts::{check_reset_link, get_invite},
    ui::components::field::{Field, FieldError},
};

fn secret() -> String {
    use_params_map().with_untracked(|p| p.get("secret").unwrap_or_default())
}

/// The reason a link does not work, as the server said it.
fn broken(e: &ServerFnError) -> impl IntoView + use<> {
    let message = e.to_string();
    let message = message
        .rsplit_once(": ")
        .map_or(message.clone(), |(_, m)| m.to_string());
    view! {
        <section class="card" role="alert">
            <h2>"This link does not work"</h2>
            <p>{message}</p>
            <p><a href="/login">"Sign in"</a></p>
        </section>
    }
}

#[component]
pub fn InvitePage() -> impl IntoView {
    let secret = secret();
    let action = format!("/forms/invite/{secret}");
    let preview = Resource::new(move || secret.clone(), get_invite);
    let viewer = use_context::<SessionUser>();
    view! {
        <Title text="Invitation · Headroom" />
        <main class="page narrow" id="main">
            <h1 class="brand">"Headroom"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let action = action.clone();
                    let viewer = viewer.clone();
                    Suspend::new(async move {
                        match preview.await {
                            Ok(p) => view! { <InviteForm preview=p action viewer /> }.into_any(),
                            Err(e) => broken(&e).into_any(),
                        }
                    })
                }}
            </Suspense>
        </main>
    }
}

#[component]
fn InviteForm(
    preview: InvitePreview,
    action: String,
    viewer: Option<SessionUser>,
) -> impl IntoView {
    let place = preview.household.clone().map_or_else(
        || "Headroom".to_string(),
        |h| format!("the household “{h}”"),
    );
    if let (Some(user), true) = (viewer, preview.kind == "household") {
        return view! {
            <form method="post" action=action class="card stack" data-testid="join-form">
                <h2>"Join " {place}</h2>
                <p>"You are signed in as " {user.display_name} "."</p>
                <button type="submit" class="button primary">"Join"</button>
            </form>
        }
        .into_any();
    }
    view! {
        <form method="post" action=action class="card stack" data-testid="invite-form">
            <h2>"You are invited to " {place}</h2>
            <p class="muted">"Choose how you sign in. The link works once, until " {crate::ui::format::instant(&preview.expires_at)} "."</p>
            <FieldError form="invite" name="secret" />
            <Field form="invite" name="email" label="Email" input_type="email" required=true autocomplete="username" />
            <Field form="invite" name="display_name" label="Your name" required=true autocomplete="name" />
            <div class="field">
                <label for="invite-password">"Password"</label>
                <input id="invite-password" type="password" name="password" minlength="8" maxlength="1024" autocomplete="new-password" required />
                <FieldError form="invite" name="password" />
            </div>
            <button type="submit" class="button primary">"Create my account"</button>
        </form>
    }
    .into_any()
}

#[component]
pub fn ResetPage() -> impl IntoView {
    let secret = secret();
    let action = format!("/forms/reset/{secret}");
    let usable = Resource::new(move || secret.clone(), check_reset_link);
    view! {
        <Title text="New password · Headroom" />
        <main class="page narrow" id="main">
            <h1 class="brand">"Headroom"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let action = action.clone();
                    Suspend::new(async move {
                        match usable.await {
                            Ok(()) => view! {
                                <form method="post" action=action class="card stack" data-testid="reset-form">
                                    <h2>"Choose a new password"</h2>
                                    <p class="muted">"Every device signed in to this account will be signed out."</p>
                                    <FieldError form="reset" name="secret" />
                                    <div class="field">
                                        <label for="reset-password">"New password"</label>
                                        <input id="reset-password" type="password" name="password" minlength="8" maxlength="1024" autocomplete="new-password" required />
                                        <FieldError form="reset" name="password" />
                                    </div>
                                    <button type="submit" class="button primary">"Set password"</button>
                                </form>
                            }.into_any(),
                            Err(e) => broken(&e).into_any(),
                        }
                    })
                }}
            </Suspense>
        </main>
    }
}

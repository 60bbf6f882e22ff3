//! `/admin/users`: administrators invite people (optionally into a household), make
//! households, and change, disable or reset users. A link made here is shown once, on the
//! page that answers the form; only its hash is kept.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    dto::accounts::{HouseholdView, LinkView, UserView},
    server_fns::admin::list_users,
    ui::{
        components::{
            field::{Field, FieldError},
            header::AppHeader,
        },
        format,
    },
};

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server_fns::require_user_or_redirect();
    let page = Resource::new(|| (), |_| list_users());
    let link = use_context::<LinkView>();
    let query = use_query_map();
    let saved = move || query.with(|q| q.get("saved")).is_some();
    view! {
        <Title text="Users · Headroom" />
        <AppHeader />
        <main class="page" id="main">
            <h1>"Users"</h1>
            {move || saved().then(|| view! { <p class="notice" role="status">"Saved."</p> })}
            {link.map(|l| view! { <NewLink link=l /> })}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(p) => view! {
                            <InviteForm households=p.households.clone() />
                            <HouseholdForm households=p.households.clone() />
                            <UserList users=p.users households=p.households />
                        }
                        .into_any(),
                        Err(_) => view! {
                            <p class="notice error" role="alert">"This page is for administrators."</p>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn NewLink(link: LinkView) -> impl IntoView {
    let what = if link.kind == "reset" {
        "Password-reset link"
    } else {
        "Invitation link"
    };
    view! {
        <section class="card notice-strong" role="status">
            <h2>{what}</h2>
            <p>"Pass it on now: it is shown this once, works once, and expires " {format::instant(&link.expires_at)} "."</p>
            <p><code class="secret" data-testid="new-link">{link.url.clone()}</code></p>
        </section>
    }
}

fn household_options(households: &[HouseholdView], chosen: Option<i64>) -> impl IntoView + use<> {
    let options = households
        .iter()
        .map(|h| {
            let selected = chosen == Some(h.id);
            view! { <option value=h.id.to_string() selected=selected>{h.name.clone()}</option> }
        })
        .collect_view();
    view! {
        <option value="" selected=chosen.is_none()>"No household"</option>
        {options}
    }
}

#[component]
fn InviteForm(households: Vec<HouseholdView>) -> impl IntoView {
    view! {
        <form method="post" action="/forms/admin/invites" class="card stack" data-testid="invite-form">
            <h2>"Invite someone"</h2>
            <p class="muted">"They choose their email, name and password when they open the link."</p>
            <label for="invite-role">"Role"</label>
            <select id="invite-role" name="role">
                <option value="member" selected>"Member"</option>
                <option value="admin">"Administrator"</option>
            </select>
            <FieldError form="invite" name="role" />
            <label for="invite-household">"Household"</label>
            <select id="invite-household" name="household_id">{household_options(&households, None)}</select>
            <FieldError form="invite" name="household_id" />
            <button type="submit" class="button primary">"Make invitation link"</button>
        </form>
    }
}

#[component]
fn HouseholdForm(households: Vec<HouseholdView>) -> impl IntoView {
    view! {
        <form method="post" action="/forms/admin/households" class="card stack" data-testid="household-form">
            <h2>"Households"</h2>
            {(!households.is_empty()).then(|| view! {
                <ul>
                    {households.iter().map(|h| view! { <li>{format!("{} ({} members)", h.name, h.members)}</li> }).collect_view()}
                </ul>
            })}
            <Field form="household" name="name" label="New household" required=true />
            <button type="submit" class="button">"Create household"</button>
        </form>
    }
}

#[component]
fn UserList(users: Vec<UserView>, households: Vec<HouseholdView>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="users-title">
            <h2 id="users-title">"Accounts"</h2>
            <ul class="token-list" data-testid="users">
                {users
                    .into_iter()
                    .map(|u| {
                        let form = format!("user-{}", u.id);
                        view! {
                            <li class:revoked=u.disabled data-testid=form.clone()>
                                <div>
                                    <strong>{u.display_name.clone()}</strong> " " {u.email.clone()}
                                    {u.disabled.then(|| view! { <span class="badge">"disabled"</span> })}
                                </div>
                                <div class="muted small">{format!("{} · {} · since {}", u.role.as_str(),
                                    u.household.clone().unwrap_or_else(|| "no household".into()), format::day(&u.created_at))}</div>
                                <form method="post" action=format!("/forms/admin/users/{}", u.id) class="inline">
                                    <select name="role" aria-label="Role">
                                        <option value="member" selected=u.role == crate::dto::Role::Member>"Member"</option>
                                        <option value="admin" selected=u.role == crate::dto::Role::Admin>"Administrator"</option>
                                    </select>
                                    <select name="household_id" aria-label="Household">{household_options(&households, u.household_id)}</select>
                                    <label><input type="checkbox" name="disabled" value="true" checked=u.disabled /> " disabled"</label>
                                    <button type="submit" class="button quiet">"Save"</button>
                                    <FieldError form=form.clone() name="role" />
                                    <FieldError form=form.clone() name="disabled" />
                                    <FieldError form=form.clone() name="household_id" />
                                </form>
                                <form method="post" action=format!("/forms/admin/users/{}/reset-link", u.id)>
                                    <button type="submit" class="button quiet">"Password-reset link"</button>
                                </form>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}

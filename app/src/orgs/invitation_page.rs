//! Accepting an invitation: a new account with name and password, or,
//! signed in, the existing account.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::{AcceptInvitation, get_invitation};
use crate::ui::{ErrorView, FormError, Loading};

#[component]
pub fn InvitationPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.with(|p| p.get("token").unwrap_or_default());
    let accept = ServerAction::<AcceptInvitation>::new();
    expect_context::<crate::auth::Auth>().refresh_on_success(accept.value());
    let info = Resource::new(token, get_invitation);
    view! {
        <Title text="Einladung" />
        <section class="page narrow">
            <h1>"Einladung annehmen"</h1>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match info.await {
                        Ok(i) => {
                            view! {
                                <p>
                                    {format!(
                                        "Sie wurden als {} zu {} eingeladen ({}).",
                                        i.role.label(),
                                        i.org_name,
                                        i.email,
                                    )}
                                </p>
                                {match i.signed_in_as.clone() {
                                    Some(me) if me == i.email => {
                                        view! {
                                            <ActionForm action=accept attr:class="form">
                                                <input type="hidden" name="token" value=token() />
                                                <p>{format!("Sie sind als {me} angemeldet.")}</p>
                                                <FormError value=accept.value() />
                                                <button type="submit" class="button primary">
                                                    "Annehmen"
                                                </button>
                                            </ActionForm>
                                        }
                                            .into_any()
                                    }
                                    Some(me) => {
                                        view! {
                                            <p class="notice warning">
                                                {format!(
                                                    "Diese Einladung gilt für {}, Sie sind aber als {} angemeldet. Melden Sie sich ab und öffnen Sie den Link erneut.",
                                                    i.email,
                                                    me,
                                                )}
                                            </p>
                                        }
                                            .into_any()
                                    }
                                    None => {
                                        let login = format!(
                                            "/login?next={}",
                                            crate::format::query_value(&format!("/einladung/{}", token())),
                                        );
                                        view! {
                                            <p>
                                                <a href=login>"Ich habe schon ein Konto: anmelden und dann annehmen"</a>
                                            </p>
                                            <h2>"Neues Konto anlegen"</h2>
                                            <ActionForm action=accept attr:class="form">
                                                <input type="hidden" name="token" value=token() />
                                                <label for="display_name">"Ihr Name"</label>
                                                <input id="display_name" name="display_name" required pattern=crate::ui::NOT_BLANK maxlength="120" autocomplete="name" />
                                                <label for="password">"Neues Passwort (mindestens 12 Zeichen)"</label>
                                                <input id="password" type="password" name="password" required minlength="12" autocomplete="new-password" />
                                                <FormError value=accept.value() />
                                                <button type="submit" class="button primary">
                                                    "Konto anlegen und annehmen"
                                                </button>
                                            </ActionForm>
                                        }
                                            .into_any()
                                    }
                                }}
                            }
                                .into_any()
                        }
                        Err(e) => view! { <ErrorView err=e page=true /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

//! `/anmeldedienste` (admins): the OpenID Connect providers customers' people
//! and the organisation's staff sign in with.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{AddProvider, SetProviderEnabled, list_providers};
use crate::ui::{ErrorView, FormError, Loading};

#[component]
pub fn ProvidersPage() -> impl IntoView {
    let add = ServerAction::<AddProvider>::new();
    let toggle = ServerAction::<SetProviderEnabled>::new();
    let data = Resource::new(
        move || (add.version().get(), toggle.version().get()),
        |_| list_providers(),
    );
    view! {
        <Title text="Anmeldedienste" />
        <section class="page wide">
            <h1>"Anmeldedienste (Single Sign-on)"</h1>
            <p class="lead">
                "Kunden melden sich mit dem Identitätsanbieter ihres Unternehmens am Kundenportal an; Ihre Mitarbeitenden auf Wunsch mit Ihrem eigenen (z. B. Microsoft Entra ID, Keycloak). Wer sich zum ersten Mal anmeldet und eine bestätigte E-Mail-Adresse aus einer erlaubten Domain hat, erhält Zugang; abgewiesene Versuche stehen im Protokoll."
            </p>
            <FormError value=add.value() />
            <FormError value=toggle.value() />
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(o) => {
                            let customers = o.customers.clone();
                            view! {
                                <p>
                                    "Beim Anbieter einzutragende Weiterleitungs-URI (Redirect URI): "
                                    <code class="redirect-uri">{o.redirect_uri.clone()}</code>
                                </p>
                                {o.providers.is_empty().then(|| view! { <p class="muted">"Noch keine Anmeldedienste eingerichtet."</p> })}
                                <table class="table providers">
                                    <thead>
                                        <tr>
                                            <th>"Name"</th>
                                            <th>"Für"</th>
                                            <th>"Aussteller"</th>
                                            <th>"Erlaubte Domains"</th>
                                            <th>"Anmelde-Link"</th>
                                            <th>"Status"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {o.providers
                                            .into_iter()
                                            .map(|p| {
                                                let who = p.customer_name.clone().unwrap_or_else(|| "Eigene Mitarbeitende".into());
                                                let enabled = p.enabled;
                                                view! {
                                                    <tr>
                                                        <td>{p.name.clone()}</td>
                                                        <td>{who}</td>
                                                        <td><code>{p.issuer_url.clone()}</code><br /><span class="muted">{format!("Client-ID {}", p.client_id)}</span></td>
                                                        <td>{p.allowed_domains.clone()}</td>
                                                        <td><a href=p.start_url.clone()>{p.start_url.clone()}</a></td>
                                                        <td>
                                                            {if enabled { "aktiv" } else { "abgeschaltet" }}
                                                            {if p.source == "config" {
                                                                view! { <br /><span class="muted">"aus der Konfigurationsdatei"</span> }.into_any()
                                                            } else {
                                                                view! {
                                                                    <ActionForm action=toggle attr:class="inline">
                                                                        <input type="hidden" name="id" value=p.id.to_string() />
                                                                        <input type="hidden" name="enabled" value=(!enabled).to_string() />
                                                                        <button type="submit" class="link">{if enabled { "abschalten" } else { "einschalten" }}</button>
                                                                    </ActionForm>
                                                                }.into_any()
                                                            }}
                                                        </td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                                <section class="card">
                                    <h2>"Anmeldedienst hinzufügen"</h2>
                                    <ActionForm action=add attr:class="form">
                                        <label for="sso-customer">"Für"</label>
                                        <select id="sso-customer" name="customer">
                                            <option value="">"Eigene Mitarbeitende"</option>
                                            {customers
                                                .into_iter()
                                                .map(|(id, name)| view! { <option value=id.to_string()>{format!("Kunde: {name}")}</option> })
                                                .collect_view()}
                                        </select>
                                        <label for="sso-name">"Name (auf der Anmeldeseite)"</label>
                                        <input id="sso-name" name="name" required pattern=crate::ui::NOT_BLANK placeholder="Microsoft Entra ID" />
                                        <label for="sso-issuer">"Aussteller-URL (Issuer)"</label>
                                        <input id="sso-issuer" name="issuer_url" type="url" required placeholder="https://login.microsoftonline.com/<Tenant-ID>/v2.0" />
                                        <label for="sso-client">"Client-ID"</label>
                                        <input id="sso-client" name="client_id" required pattern=crate::ui::NOT_BLANK />
                                        <label for="sso-secret">"Client-Geheimnis"</label>
                                        <input id="sso-secret" name="client_secret" type="password" autocomplete="off" />
                                        <label for="sso-domains">"Erlaubte E-Mail-Domains"</label>
                                        <input id="sso-domains" name="allowed_domains" required pattern=crate::ui::NOT_BLANK placeholder="beispiel.de, beispiel.com" />
                                        <label for="sso-scopes">"Scopes"</label>
                                        <input id="sso-scopes" name="scopes" value="openid email profile" />
                                        <label for="sso-claim">"Geforderter Claim (optional, z. B. groups=nachweis)"</label>
                                        <input id="sso-claim" name="required_claim" />
                                        <label for="sso-role">"Rolle neuer Mitarbeitender"</label>
                                        <select id="sso-role" name="default_role">
                                            <option value="staff" selected>"Mitarbeiter/in"</option>
                                            <option value="owner">"Verantwortliche/r"</option>
                                            <option value="auditor">"Prüfer/in"</option>
                                            <option value="admin">"Administrator/in"</option>
                                        </select>
                                        <label for="sso-mapping">"Gruppen → Rollen (je Zeile Gruppe=Rolle, aus dem Claim „groups“)"</label>
                                        <crate::ui::TextArea id="sso-mapping" name="role_mapping" rows=3 />
                                        <button type="submit" class="button primary">"Hinzufügen"</button>
                                    </ActionForm>
                                </section>
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

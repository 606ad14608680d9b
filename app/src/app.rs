//! `<App/>`: the router, the document shell and the pages it maps.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, SsrMode};

use crate::components::layout::console_layout::ConsoleLayout;
use crate::pages::account::AccountPage;
use crate::pages::audit_log::AuditLogPage;
use crate::pages::change_password::ChangePasswordPage;
use crate::pages::dashboard::DashboardPage;
use crate::pages::endpoint_import::EndpointImportPage;
use crate::pages::endpoint_summary::EndpointSummaryPage;
use crate::pages::endpoints::EndpointsPage;
use crate::pages::integrations::defender::DefenderPage;
use crate::pages::integrations::list::IntegrationsPage;
use crate::pages::login::LoginPage;
use crate::pages::not_found::NotFound;
use crate::pages::profiles::ProfilesPage;
use crate::pages::sensors::SensorsPage;
use crate::pages::software::SoftwarePage;
use crate::pages::user_detail::UserDetailPage;
use crate::pages::users::UsersPage;
use crate::pages::vulnerabilities::VulnerabilitiesPage;

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="data:,"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Marks the page once the wasm has taken over, so browser tests click only after hydration.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/endpoint_analytics.css"/>
        <Title text="Endpoint Analytics"/>
        <Router>
            // Async SSR: pages arrive complete, so they work without JavaScript.
            <Routes fallback=NotFound>
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                <ParentRoute path=path!("") view=ConsoleLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=DashboardPage/>
                    <Route path=path!("endpoints") view=EndpointsPage/>
                    <Route path=path!("endpoints/import") view=EndpointImportPage/>
                    <Route path=path!("endpoints/:id") view=EndpointSummaryPage/>
                    <Route path=path!("vulnerabilities") view=VulnerabilitiesPage/>
                    <Route path=path!("software") view=SoftwarePage/>
                    <Route path=path!("configuration/profiles") view=ProfilesPage/>
                    <Route path=path!("configuration/integrations") view=IntegrationsPage/>
                    <Route
                        path=path!("configuration/integrations/microsoft-defender")
                        view=DefenderPage
                    />
                    <Route path=path!("configuration/sensors") view=SensorsPage/>
                    <Route path=path!("configuration/users") view=UsersPage/>
                    <Route path=path!("configuration/users/:id") view=UserDetailPage/>
                    <Route path=path!("account") view=AccountPage/>
                    <Route path=path!("account/password") view=ChangePasswordPage/>
                    <Route path=path!("configuration/audit-log") view=AuditLogPage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

"""The web app people use (server-rendered, Jinja2 + htmx from static/): one module per screen, each with its own
router and templates under templates/screens/. Every screen is company-scoped through layout.ScreenDep (members)
or layout.AdminScreenDep (admins): another company's id reads as a page that does not exist."""

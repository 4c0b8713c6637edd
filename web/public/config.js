// The web app's run-time configuration, read before the app starts (see
// src/lib/config.js). Empty: the API is on this origin (/api/). To serve
// the app from its own domain, replace this file in the deployed dist/
// (no rebuild needed), e.g.:
//   window.DANDI_CONFIG = { apiRoot: 'https://api.example.org/api/' };
// and list this site's origin in the API's web_app_origins.
window.DANDI_CONFIG = window.DANDI_CONFIG || {};

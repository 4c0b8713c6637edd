import { createApp } from 'vue';
import App from './App.vue';
import { router } from './router.js';
import { reportError, loadInfo, loadUser, notify } from './lib/store.js';
import { restoreLogin } from './lib/auth.js';
import { captureAccessToken, dropAccessQuery } from './lib/access.js';
import './style.css';

// Finish or restore a login before the first route is resolved, so guarded
// pages know who is there; server info loads at the same time.
async function start() {
  let returnTo = null;
  captureAccessToken();
  loadInfo().catch(() => {});
  try {
    returnTo = await restoreLogin();
  } catch (e) {
    notify(e.message, 'error');
  }
  try {
    await loadUser();
  } catch (e) {
    reportError(e, 'Could not load your account');
  }
  const app = createApp(App);
  app.config.errorHandler = (err) => reportError(err);
  window.addEventListener('unhandledrejection', (ev) => reportError(ev.reason));
  app.use(router);
  router.isReady().then(() => dropAccessQuery(router));
  if (returnTo && returnTo !== '/') router.replace(returnTo);
  app.mount('#app');
}

start();

import { createRouter, createWebHistory } from 'vue-router';
import HomeView from './views/HomeView.vue';
import DandisetsView from './views/DandisetsView.vue';
import { store } from './lib/store.js';

const routes = [
  { path: '/', name: 'home', component: HomeView, meta: { title: '' } },
  { path: '/dandiset', name: 'publicDandisets', component: DandisetsView, props: { mode: 'public' }, meta: { title: 'Public Dandisets' } },
  { path: '/dandiset/my', name: 'myDandisets', component: DandisetsView, props: { mode: 'my' }, meta: { title: 'My Dandisets', requiresAuth: true } },
  { path: '/dandiset/starred', name: 'starredDandisets', component: DandisetsView, props: { mode: 'starred' }, meta: { title: 'Starred Dandisets', requiresAuth: true } },
  { path: '/dandiset/search', name: 'searchDandisets', component: DandisetsView, props: { mode: 'search' }, meta: { title: 'Search Dandisets' } },
  { path: '/dandiset/create', name: 'createDandiset', component: () => import('./views/CreateView.vue'), meta: { title: 'Create Dandiset', requiresAuth: true } },
  { path: '/dandiset/:identifier(\\d{6})/:version/files', name: 'fileBrowser', component: () => import('./views/FileBrowser.vue'), meta: { title: 'Files' } },
  { path: '/dandiset/:identifier(\\d{6})/:version/zarr/:zarr', name: 'zarrBrowser', component: () => import('./views/ZarrBrowser.vue'), meta: { title: 'Zarr' } },
  { path: '/dandiset/:identifier(\\d{6})/:version/metadata', name: 'metadataEditor', component: () => import('./views/MetadataEditor.vue'), meta: { title: 'Metadata' } },
  { path: '/dandiset/:identifier/:version?', name: 'dandisetLanding', component: () => import('./views/LandingView.vue'), meta: { title: 'Dandiset' } },
  { path: '/search', name: 'assetSearch', component: () => import('./views/AssetSearchView.vue'), meta: { title: 'Search Assets' } },
  { path: '/:pathMatch(.*)*', name: 'notFound', component: () => import('./views/NotFound.vue'), meta: { title: 'Not found' } },
];

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior: (to, from, saved) => saved || (to.path !== from.path ? { top: 0 } : undefined),
});

// Old hash URLs (/#/dandiset/000003/draft) become history URLs.
router.beforeEach((to) => {
  if (to.hash && to.hash.startsWith('#/')) return { path: to.hash.slice(1), replace: true };
  if (to.meta.requiresAuth && store.userLoaded && !store.user) return { name: 'home', query: { login: 'required' } };
  return true;
});

router.afterEach((to) => {
  const t = to.meta.title;
  document.title = t ? `${t} - DANDI Archive` : 'DANDI Archive';
});

export function setTitle(t) {
  document.title = t ? `${t} - DANDI Archive` : 'DANDI Archive';
}

// The service worker that lets a class keep using the page on a bad network: after one visit
// the page, its modules, the workers and the U-Net's weights load from this cache when the
// network fails.
//
// Network first, cache second: while online every file comes from the site, so a new build is
// used as soon as it is deployed (the page's module and its worker always match), and each
// answer refreshes the cache for the next time the network is gone.

const CACHE = 'diffusion-playground';

// On install, the page itself; every other file is cached as the page fetches it (the page
// also asks for what it loaded before this worker took control: see boot.js).
self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.add('./')).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

// `{cache: [urls]}` from the page: files it fetched before this worker controlled it.
self.addEventListener('message', (event) => {
  const urls = event.data && Array.isArray(event.data.cache) ? event.data.cache : [];
  const own = urls.filter((u) => typeof u === 'string' && new URL(u, self.location).origin === self.location.origin);
  event.waitUntil(caches.open(CACHE).then((cache) => Promise.all(own.map((u) => cache.add(u).catch(() => {})))));
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok && response.type === 'basic') {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(request, copy));
        }
        return response;
      })
      .catch(async () => {
        const cached = await caches.match(request, { ignoreSearch: request.mode === 'navigate' });
        return cached ?? Response.error();
      }),
  );
});

/* main.js — the entry module of index.html and embed.html: builds the page.
 *
 * Owns nothing but the call, so that every other module (app.js included)
 * can be imported without building a map (tests/browser/modules.test.mjs
 * does). A module file, not an inline script: the server's CSP is
 * default-src 'self'. */
import { main } from './app.js';

main();

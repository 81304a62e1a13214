/* card-links.js — what a result card offers to reach a centre: directions
 * in the map service the reader chose, the phone's maps app (a geo: URI),
 * the phone number as a tel: link, and the postal address to copy.
 *
 * Owns: the few map services offered, the reader's choice among them
 * (remembered in localStorage), the URLs of those links, reading a French
 * phone number and copying a text to the clipboard. Invariants:
 *  - every URL built here is only a link the reader may follow (the page
 *    never loads it: no fetch, prefetch or iframe); the page makes it open
 *    in a new tab, without opener or referrer;
 *  - a tel: href holds only digits and a leading +; a phone number that
 *    has none gives no link (null);
 *  - a stored choice that is not one of MAP_SERVICES reads as the default
 *    (OpenStreetMap), and a storage the browser refuses (private mode, a
 *    third-party iframe) is never an error: the choice then lasts the visit.
 * Importing this module touches nothing; every function but rememberedService,
 * rememberService and copyText is pure (so they also run in Node). */

const STORAGE_KEY = 'maillage.mapService';
const fixed = (value) => value.toFixed(5);

/* The map services offered, in the order of the choice; `label` is an
 * i18n.js key; directions(from, to) gives the URL of a route from the place
 * searched `from` ({lat, lon}) to the centre `to` ({lat, lon, name}). */
export const MAP_SERVICES = [
    {
        id: 'osm',
        label: 'map_service_osm',
        directions: (from, to) =>
            `https://www.openstreetmap.org/directions?route=${encodeURIComponent(`${fixed(from.lat)},${fixed(from.lon)};${fixed(to.lat)},${fixed(to.lon)}`)}`,
    },
    {
        id: 'google',
        label: 'map_service_google',
        directions: (from, to) =>
            `https://www.google.com/maps/dir/?api=1&origin=${fixed(from.lat)},${fixed(from.lon)}&destination=${fixed(to.lat)},${fixed(to.lon)}`,
    },
    {
        id: 'apple',
        label: 'map_service_apple',
        directions: (from, to) =>
            `https://maps.apple.com/?saddr=${fixed(from.lat)},${fixed(from.lon)}&daddr=${fixed(to.lat)},${fixed(to.lon)}&q=${encodeURIComponent(to.name ?? '')}`,
    },
    {
        /* Waze routes from where the phone is: it takes no starting point. */
        id: 'waze',
        label: 'map_service_waze',
        directions: (from, to) => `https://www.waze.com/ul?ll=${fixed(to.lat)},${fixed(to.lon)}&navigate=yes`,
    },
];

/* The service whose id is `id`, else the first (OpenStreetMap). */
export function mapService(id) {
    return MAP_SERVICES.find((service) => service.id === id) ?? MAP_SERVICES[0];
}

/* The service the reader chose on an earlier visit (the default when none or when storage is refused). */
export function rememberedService() {
    try {
        return mapService(globalThis.localStorage?.getItem(STORAGE_KEY));
    } catch {
        return MAP_SERVICES[0];
    }
}

/* Remembers the reader's choice; false when the browser refuses storage. */
export function rememberService(id) {
    try {
        globalThis.localStorage.setItem(STORAGE_KEY, mapService(id).id);
        return true;
    } catch {
        return false;
    }
}

/* The geo: URI (RFC 5870, with the `q` label maps apps read) of a centre
 * {lat, lon, name}: geo:LAT,LON?q=LAT,LON(NAME). The name is percent-encoded,
 * its parentheses too, since they delimit it. */
export function geoUri({ lat, lon, name }) {
    const position = `${fixed(lat)},${fixed(lon)}`;
    const label = encodeURIComponent(name ?? '').replace(/\(/g, '%28').replace(/\)/g, '%29');
    return label ? `geo:${position}?q=${position}(${label})` : `geo:${position}`;
}

/* A phone number as written in the data -> its digits with a leading +
 * for the international form ("+33 (0)1 64 60 40 94" -> "+33164604094",
 * "00 33 1…" -> "+331…", "01.64.60.40.94" -> "0164604094"); null when it
 * holds fewer than 3 digits. */
export function phoneDigits(phone) {
    if (typeof phone !== 'string') return null;
    const text = phone.replace(/\(0\)/g, '').trim();
    let digits = text.replace(/\D/g, '');
    if (text.startsWith('+')) digits = `+${digits}`;
    else if (digits.startsWith('00')) digits = `+${digits.slice(2)}`;
    return digits.replace(/\D/g, '').length >= 3 ? digits : null;
}

/* The tel: href of a phone number, or null when it has no usable digits. */
export function telHref(phone) {
    const digits = phoneDigits(phone);
    return digits ? `tel:${digits}` : null;
}

/* A phone number as read aloud and on screen: a French ten-digit number in
 * pairs ("01 64 60 40 94"), +33 numbers as "+33 1 64 60 40 94", any other
 * number as the data writes it. */
export function phoneText(phone) {
    const digits = phoneDigits(phone);
    if (digits && /^0\d{9}$/.test(digits)) return digits.replace(/(\d\d)(?=\d)/g, '$1 ');
    if (digits && /^\+33\d{9}$/.test(digits)) return `+33 ${digits.slice(3, 4)} ${digits.slice(4).replace(/(\d\d)(?=\d)/g, '$1 ')}`;
    return phone.trim();
}

/* The postal lines of a result group {address, postcode, city}, empty ones left out. */
export function addressLines({ address, postcode, city }) {
    return [address, [postcode, city].filter(Boolean).join(' ')].filter(Boolean);
}

/* Copies `text` to the clipboard: the Clipboard API, else (insecure page,
 * an iframe without clipboard-write, an old browser) a selected hidden
 * textarea and execCommand('copy'). The focus is given back to where it
 * was. Resolves to true when one of them reported success. */
export async function copyText(text) {
    try {
        await navigator.clipboard.writeText(text);
        return true;
    } catch {
        /* fall through to the selection */
    }
    const focused = document.activeElement;
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.setAttribute('aria-hidden', 'true');
    area.className = 'visually-hidden';
    document.body.append(area);
    area.select();
    let copied = false;
    try {
        copied = document.execCommand('copy');
    } catch {
        copied = false;
    }
    area.remove();
    focused?.focus?.({ preventScroll: true });
    return copied;
}

/* export.js — the planner's selection as CSV or GeoJSON files.
 *
 * Owns: serialising a list of GeoJSON features and offering it as a
 * download. Invariants: CSV is UTF-8, comma-separated, one header line,
 * RFC 4180 quoting (like the project's own CSV files), columns in a stable
 * order (known ones first, then any others alphabetically), lat/lon from the
 * geometry (the features are /api/structures's: Point geometries), each
 * site's full `source` citation as the server sends it (the page shows a
 * shorter form); GeoJSON is an RFC 7946 FeatureCollection of the same features. */

const FIRST_COLUMNS = ['site_id', 'name', 'centre_label', 'role', 'filiere', 'public', 'finess', 'phone',
    'address', 'postcode', 'city', 'platform', 'orpha_codes', 'coordinator_site_id', 'source'];

function csvField(value) {
    if (value === undefined || value === null) return '';
    const text = Array.isArray(value) ? value.join('|') : typeof value === 'object' ? JSON.stringify(value) : String(value);
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function featuresToCsv(features) {
    const seen = new Set();
    for (const feature of features) for (const name of Object.keys(feature.properties)) seen.add(name);
    const columns = [
        ...FIRST_COLUMNS.filter((name) => seen.has(name)),
        ...[...seen].filter((name) => !FIRST_COLUMNS.includes(name)).sort(),
    ];
    const lines = [[...columns, 'lat', 'lon'].join(',')];
    for (const feature of features) {
        const [lon, lat] = feature.geometry.coordinates;
        lines.push([...columns.map((name) => csvField(feature.properties[name])), csvField(lat), csvField(lon)].join(','));
    }
    return `${lines.join('\n')}\n`;
}

export function featuresToGeoJson(features) {
    return `${JSON.stringify({ type: 'FeatureCollection', features }, null, 1)}\n`;
}

export function download(filename, type, text) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const link = document.createElement('a');
    link.href = url;
    link.download = filename;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
}

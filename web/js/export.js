/* export.js — the planner's selection and tables as CSV or GeoJSON files.
 *
 * Owns: serialising a list of GeoJSON features, or a table's rows, and
 * offering it as a download. Invariants: CSV is UTF-8, comma-separated, one header line,
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

/* A table as CSV: `columns` (names, the header line) and `rows` (arrays of
 * values in the columns' order; null or undefined is an empty field). */
export function rowsToCsv(columns, rows) {
    const lines = [columns.map(csvField).join(',')];
    for (const row of rows) lines.push(row.map(csvField).join(','));
    return `${lines.join('\n')}\n`;
}

export function featuresToCsv(features) {
    const seen = new Set();
    for (const feature of features) for (const name of Object.keys(feature.properties)) seen.add(name);
    const columns = [
        ...FIRST_COLUMNS.filter((name) => seen.has(name)),
        ...[...seen].filter((name) => !FIRST_COLUMNS.includes(name)).sort(),
    ];
    return rowsToCsv(
        [...columns, 'lat', 'lon'],
        features.map((feature) => {
            const [lon, lat] = feature.geometry.coordinates;
            return [...columns.map((name) => feature.properties[name]), lat, lon];
        }),
    );
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

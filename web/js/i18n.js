/* i18n.js — the page's words in French (default) and English.
 *
 * Owns: every user-visible string of the page and the words for roles and
 * publics. Invariants: French is the reference, so every key exists in `fr`;
 * a key missing in `en` falls back to French; the current language is the
 * `lang` attribute of <html>, which t() reads, so text and lang never disagree. */

const strings = {
    fr: {
        title: 'Maillage maladies rares',
        tagline: 'Trouver un centre de référence ou de compétence près de chez soi',
        skip: 'Aller aux résultats',
        language_toggle: 'English',
        language_toggle_label: 'Switch to English',
        view_nav: 'Affichage et langue',
        view_patient: 'Trouver un centre',
        view_planner: 'Vue du territoire',
        share: 'Partager / intégrer',
        condition: 'Maladie (nom, synonyme ou ORPHAcode)',
        condition_placeholder: 'ex. drépanocytose, ORPHA:232',
        place: 'Commune ou code postal',
        place_placeholder: 'ex. Provins, 77160',
        public_filter: 'Public',
        public_any: 'Enfants et adultes',
        public_children: 'Enfants',
        public_adults: 'Adultes',
        geolocate: 'Utiliser ma position',
        geolocating: 'Recherche de votre position…',
        geolocation_failed: 'Position indisponible : choisissez une commune ou cliquez sur la carte.',
        map_click_hint: 'Vous pouvez aussi cliquer sur la carte pour choisir un lieu.',
        suggestions_count: '{n} suggestion(s), flèches haut et bas pour parcourir',
        no_suggestion: 'Aucune suggestion',
        sites_count: '{n} site(s)',
        chosen_point: 'Point choisi sur la carte ({lat}, {lon})',
        my_position: 'Ma position',
        results_heading: 'Centres les plus proches',
        results_intro_condition: 'Pour « {condition} » près de {place}',
        results_intro_all: 'Tous les sites près de {place}',
        results_none_place: 'Choisissez une maladie et un lieu pour voir les centres les plus proches.',
        loading: 'Chargement…',
        error: 'Une erreur est survenue : {detail}',
        no_site: 'Aucun site du réseau ne couvre cette maladie dans nos données.',
        distance: 'à {km} km',
        via: 'via : {label}',
        public: 'Public : {value}',
        phone: 'Téléphone : ',
        filiere: 'Filière : {value}',
        responsable: 'Responsable : {value}',
        show_on_map: 'Voir sur la carte',
        sites_here: '{n} sites dans cet établissement',
        marker_label: '{rank}. {name}, {km} km',
        /* ---- issue 13, the way there and phones: result cards, map/list switch (begin) ---- */
        card_directions: 'Itinéraire',
        card_directions_where: ' ({service}, nouvel onglet)',
        card_geo: 'Application de cartes',
        card_copy: 'Copier l’adresse',
        card_copied_short: 'Adresse copiée',
        card_copied: 'Adresse de « {name} » copiée',
        card_copy_failed: 'Copie automatique impossible : l’adresse est sélectionnée sur la fiche.',
        map_service: 'Itinéraires avec',
        map_service_osm: 'OpenStreetMap',
        map_service_google: 'Google Maps',
        map_service_apple: 'Apple Plans',
        map_service_waze: 'Waze',
        view_switch: 'Liste ou carte',
        view_list: 'Liste',
        view_map: 'Carte',
        /* ---- issue 13 (end) ---- */
        planner_heading: 'Vue du territoire',
        filters: 'Filtres',
        filter_filiere: 'Filière',
        all_filieres: 'Toutes les filières',
        filter_roles: 'Rôles',
        layers: 'Couches',
        layer_network: 'Liens du réseau (vers les sites coordonnateurs)',
        layer_areas: 'Départements ou régions (aplat de couleur)',
        layer_etablissements: 'Établissements de santé (FINESS)',
        choropleth: 'Aplat',
        metric_population: 'Population',
        metric_coverage: 'Couverture',
        legend: 'Légende',
        legend_sites: 'Site du réseau',
        role_coordinating: 'Site coordonnateur (carré)',
        legend_cluster: 'Groupe de sites (nombre indiqué)',
        legend_link: 'Lien vers un site coordonnateur (trait plein)',
        legend_cooperation: 'Coopération entre sites (tirets)',
        legend_you: 'Lieu recherché',
        legend_rank: 'Résultat (numéro dans la liste)',
        selection_heading: 'Sites dans la vue courante',
        selection_table: 'Tableau des sites (défilable)',
        selection_count: '{n} site(s) dans la vue',
        selection_truncated: 'Liste limitée : zoomez pour tout voir.',
        export_csv: 'Exporter en CSV',
        export_geojson: 'Exporter en GeoJSON',
        col_name: 'Établissement',
        col_centre: 'Centre',
        col_role: 'Rôle',
        col_filiere: 'Filière',
        col_public: 'Public',
        col_source: 'Source',
        source_arrete_relabelled: 'Source : arrêté du {date}{label} — liste de {year}, renouvelée en {relabelled} ; vérifiez auprès du centre',
        source_arrete: 'Source : arrêté du {date}{label} — liste de {year} ; vérifiez auprès du centre',
        source_inferred: 'Site déduit de l’organisation de l’hôpital, non nommé par l’arrêté',
        source_text: 'Source : {text}',
        source_none: 'Source : non indiquée',
        source_arrete_relabelled_short: 'Arrêté du {date}{label}, liste renouvelée en {relabelled}',
        source_arrete_short: 'Arrêté du {date}{label}',
        source_inferred_short: ' ; site déduit',
        source_none_short: 'non indiquée',
        area_info: '{name} : {population} habitants',
        area_hint: 'Cliquez sur un département pour lire sa population.',
        share_heading: 'Partager ou intégrer cette carte',
        permalink: 'Lien permanent',
        iframe_snippet: 'Code d’intégration (<iframe>)',
        copy: 'Copier',
        copied: 'Copié',
        close: 'Fermer',
        open_full: 'Ouvrir la carte complète',
        map_label: 'Carte des centres maladies rares',
        zoom_in_cluster: 'Groupe de {n} sites : zoomez pour les voir',
        data_credit: 'Données : Orphanet (CC BY 4.0), FINESS, IGN/INSEE',
        population_classes: 'Population par département',
        radius: 'Rayon',
        radius_option: '{km} km',
        coverage_fieldset: 'Couverture',
        coverage_of_condition: 'Sites retenus : ceux qui couvrent « {label} ».',
        coverage_of_filiere: 'Sites retenus : ceux de la filière {filiere}.',
        coverage_choose: 'Choisissez une maladie (en haut) ou une filière (Filtres) pour voir qui vit loin d’un site.',
        coverage_filiere_ignored: 'La filière choisie ne s’applique pas ici : la couverture porte sur la maladie.',
        coverage_unavailable: 'La couverture n’est pas disponible sur ce serveur.',
        level: 'Niveau',
        level_departement: 'Départements',
        level_region: 'Régions',
        coverage_heading: 'Qui vit loin d’un site ?',
        coverage_loading: 'Calcul de la couverture…',
        coverage_status: '{sites} site(s) retenu(s), rayon de {radius} km.',
        coverage_note: 'Couvert : à moins de {radius} km à vol d’oiseau du site retenu le plus proche. Médiane et P90 : la moitié, et 9 habitants sur 10, vivent à moins de cette distance du site le plus proche. Site principal : le plus proche du plus grand nombre d’habitants de la zone.',
        totals_caption: 'Ensemble',
        territory_FR: 'France',
        territory_metropole: 'France métropolitaine',
        col_territory: 'Territoire',
        col_departement: 'Département',
        col_region: 'Région',
        col_population: 'Population',
        col_uncovered: 'Non couverts',
        col_share: 'Part couverte',
        col_median: 'Médiane (km)',
        col_p90: 'P90 (km)',
        col_serving: 'Site principal',
        areas_caption_departement: 'Départements, du plus grand au plus petit nombre d’habitants non couverts',
        areas_caption_region: 'Régions, du plus grand au plus petit nombre d’habitants non couverts',
        coverage_table: 'Tableau de la couverture par zone (défilable)',
        totals_table: 'Tableau de la couverture d’ensemble',
        coverage_export_csv: 'Exporter le tableau en CSV',
        not_available: 'n.d.',
        coverage_classes_departement: 'Part de la population à moins de {radius} km d’un site, par département',
        coverage_classes_region: 'Part de la population à moins de {radius} km d’un site, par région',
        area_hint_coverage: 'Cliquez sur une zone pour lire ses chiffres ; le tableau les donne tous.',
        area_info_coverage: '{name} : {figures}',
        area_covered: '{share} à moins de {radius} km d’un site ({covered} sur {population} habitants)',
        area_distances: 'Distance au site le plus proche : médiane {median} km ; 9 habitants sur 10 à moins de {p90} km',
        area_no_distance: 'Aucun site retenu : pas de distance.',
        area_serving: 'Site le plus proche du plus grand nombre : {name} ({population} habitants)',
        area_without_point: '{population} habitants de communes sans position connue, comptés non couverts',
        layer_service_areas: 'Zones desservies (site le plus proche)',
        legend_service_area: 'Zone desservie : plus proche de ce site que de tout autre (contour)',
        service_areas_error: 'Zones desservies indisponibles : {detail}',
        embed_title: 'Centres maladies rares',
    },
    en: {
        title: 'Rare disease care map',
        tagline: 'Find a reference or competence centre near you',
        skip: 'Skip to results',
        language_toggle: 'Français',
        language_toggle_label: 'Passer en français',
        view_nav: 'Display and language',
        view_patient: 'Find a centre',
        view_planner: 'Territory view',
        share: 'Share / embed',
        condition: 'Condition (name, synonym or ORPHAcode)',
        condition_placeholder: 'e.g. sickle cell, ORPHA:232',
        place: 'Town or postcode',
        place_placeholder: 'e.g. Provins, 77160',
        public_filter: 'Patients',
        public_any: 'Children and adults',
        public_children: 'Children',
        public_adults: 'Adults',
        geolocate: 'Use my location',
        geolocating: 'Finding your location…',
        geolocation_failed: 'Location unavailable: choose a town or click on the map.',
        map_click_hint: 'You can also click on the map to choose a place.',
        suggestions_count: '{n} suggestion(s), use up and down arrows',
        no_suggestion: 'No suggestion',
        sites_count: '{n} site(s)',
        chosen_point: 'Point chosen on the map ({lat}, {lon})',
        my_position: 'My location',
        results_heading: 'Nearest centres',
        results_intro_condition: 'For “{condition}” near {place}',
        results_intro_all: 'All sites near {place}',
        results_none_place: 'Choose a condition and a place to see the nearest centres.',
        loading: 'Loading…',
        error: 'Something went wrong: {detail}',
        no_site: 'No site of the network covers this condition in our data.',
        distance: '{km} km away',
        via: 'via: {label}',
        public: 'Patients: {value}',
        phone: 'Phone: ',
        filiere: 'Network: {value}',
        responsable: 'Head: {value}',
        show_on_map: 'Show on map',
        sites_here: '{n} sites at this hospital',
        marker_label: '{rank}. {name}, {km} km',
        /* ---- issue 13, the way there and phones: result cards, map/list switch (begin) ---- */
        card_directions: 'Directions',
        card_directions_where: ' ({service}, new tab)',
        card_geo: 'Maps app',
        card_copy: 'Copy the address',
        card_copied_short: 'Address copied',
        card_copied: 'Address of “{name}” copied',
        card_copy_failed: 'Could not copy: the address is selected on the card.',
        map_service: 'Directions with',
        map_service_osm: 'OpenStreetMap',
        map_service_google: 'Google Maps',
        map_service_apple: 'Apple Maps',
        map_service_waze: 'Waze',
        view_switch: 'List or map',
        view_list: 'List',
        view_map: 'Map',
        /* ---- issue 13 (end) ---- */
        planner_heading: 'Territory view',
        filters: 'Filters',
        filter_filiere: 'Health network (filière)',
        all_filieres: 'All networks',
        filter_roles: 'Roles',
        layers: 'Layers',
        layer_network: 'Network links (to coordinating sites)',
        layer_areas: 'Départements or regions (choropleth)',
        layer_etablissements: 'Health establishments (FINESS)',
        choropleth: 'Choropleth',
        metric_population: 'Population',
        metric_coverage: 'Coverage',
        legend: 'Legend',
        legend_sites: 'Network site',
        role_coordinating: 'Coordinating site (square)',
        legend_cluster: 'Group of sites (count shown)',
        legend_link: 'Link to a coordinating site (solid line)',
        legend_cooperation: 'Cooperation between sites (dashes)',
        legend_you: 'Searched place',
        legend_rank: 'Result (number in the list)',
        selection_heading: 'Sites in the current view',
        selection_table: 'Table of sites (scrollable)',
        selection_count: '{n} site(s) in view',
        selection_truncated: 'List limited: zoom in to see all.',
        export_csv: 'Export as CSV',
        export_geojson: 'Export as GeoJSON',
        col_name: 'Hospital',
        col_centre: 'Centre',
        col_role: 'Role',
        col_filiere: 'Network',
        col_public: 'Patients',
        col_source: 'Source',
        source_arrete_relabelled: 'Source: arrêté of {date}{label} — {year} list, relabelled in {relabelled}; check with the centre',
        source_arrete: 'Source: arrêté of {date}{label} — {year} list; check with the centre',
        source_inferred: 'Site inferred from how the hospital is organised; the arrêté does not name it',
        source_text: 'Source: {text}',
        source_none: 'Source: not stated',
        source_arrete_relabelled_short: 'Arrêté of {date}{label}, list relabelled in {relabelled}',
        source_arrete_short: 'Arrêté of {date}{label}',
        source_inferred_short: '; site inferred',
        source_none_short: 'not stated',
        area_info: '{name}: {population} inhabitants',
        area_hint: 'Click a département to read its population.',
        share_heading: 'Share or embed this map',
        permalink: 'Permanent link',
        iframe_snippet: 'Embed code (<iframe>)',
        copy: 'Copy',
        copied: 'Copied',
        close: 'Close',
        open_full: 'Open the full map',
        map_label: 'Map of rare disease centres',
        zoom_in_cluster: 'Group of {n} sites: zoom in to see them',
        data_credit: 'Data: Orphanet (CC BY 4.0), FINESS, IGN/INSEE',
        population_classes: 'Population per département',
        radius: 'Radius',
        radius_option: '{km} km',
        coverage_fieldset: 'Coverage',
        coverage_of_condition: 'Sites: those covering “{label}”.',
        coverage_of_filiere: 'Sites: those of the {filiere} network.',
        coverage_choose: 'Choose a condition (above) or a network (Filters) to see who lives far from a site.',
        coverage_filiere_ignored: 'The chosen network does not apply here: coverage is for the condition.',
        coverage_unavailable: 'Coverage is not available on this server.',
        level: 'Level',
        level_departement: 'Départements',
        level_region: 'Regions',
        coverage_heading: 'Who lives far from a site?',
        coverage_loading: 'Computing coverage…',
        coverage_status: '{sites} site(s) selected, {radius} km radius.',
        coverage_note: 'Covered: within {radius} km as the crow flies of the nearest selected site. Median and P90: half, and 9 in 10 people, live closer than this to the nearest site. Main site: the nearest site for most people of the area.',
        totals_caption: 'Overall',
        territory_FR: 'France',
        territory_metropole: 'Metropolitan France',
        col_territory: 'Territory',
        col_departement: 'Département',
        col_region: 'Region',
        col_population: 'Population',
        col_uncovered: 'Not covered',
        col_share: 'Share covered',
        col_median: 'Median (km)',
        col_p90: 'P90 (km)',
        col_serving: 'Main site',
        areas_caption_departement: 'Départements, from most to fewest people not covered',
        areas_caption_region: 'Regions, from most to fewest people not covered',
        coverage_table: 'Coverage table by area (scrollable)',
        totals_table: 'Overall coverage table',
        coverage_export_csv: 'Export the table as CSV',
        not_available: 'n/a',
        coverage_classes_departement: 'Share of the population within {radius} km of a site, by département',
        coverage_classes_region: 'Share of the population within {radius} km of a site, by region',
        area_hint_coverage: 'Click an area to read its figures; the table lists them all.',
        area_info_coverage: '{name}: {figures}',
        area_covered: '{share} within {radius} km of a site ({covered} of {population} inhabitants)',
        area_distances: 'Distance to the nearest site: median {median} km; 9 in 10 people within {p90} km',
        area_no_distance: 'No site selected: no distance.',
        area_serving: 'Nearest site for most people: {name} ({population} inhabitants)',
        area_without_point: '{population} inhabitants of communes without a known position, counted as not covered',
        layer_service_areas: 'Service areas (nearest site)',
        legend_service_area: 'Service area: closer to this site than to any other (outline)',
        service_areas_error: 'Service areas unavailable: {detail}',
        embed_title: 'Rare disease centres',
    },
};

const roles = {
    fr: {
        crmr_coordonnateur: 'Centre de référence, site coordonnateur',
        crmr_constitutif: 'Centre de référence, site constitutif',
        crmr: 'Centre de référence',
        ccmr: 'Centre de compétence',
        cooperation: 'Coopération avec un centre de référence',
        platform_member: 'Membre d’une plateforme d’expertise',
        platform_coordinator: 'Coordination d’une plateforme d’expertise',
        medico_social: 'Structure médico-sociale',
        association: 'Association',
    },
    en: {
        crmr_coordonnateur: 'Reference centre, coordinating site',
        crmr_constitutif: 'Reference centre, constituent site',
        crmr: 'Reference centre',
        ccmr: 'Competence centre',
        cooperation: 'Cooperation with a reference centre',
        platform_member: 'Member of an expertise platform',
        platform_coordinator: 'Coordinator of an expertise platform',
        medico_social: 'Medico-social service',
        association: 'Patient association',
    },
};

const publics = {
    fr: { enfants: 'enfants', adultes: 'adultes', tous: 'enfants et adultes' },
    en: { enfants: 'children', adultes: 'adults', tous: 'children and adults' },
};

export const ROLE_NAMES = Object.keys(roles.fr);

/* The page's language; French where there is no document (Node tests). */
export function language() {
    return globalThis.document?.documentElement.lang === 'en' ? 'en' : 'fr';
}

/* The string `key` in `lang` ('fr' or 'en') with {name} placeholders filled. */
export function translate(lang, key, values = {}) {
    const table = strings[lang] ?? strings.fr;
    const text = table[key] ?? strings.fr[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/* The string `key` in the current language with {name} placeholders filled. */
export function t(key, values = {}) {
    return translate(language(), key, values);
}

export function roleWords(role) {
    return roles[language()][role] ?? roles.fr[role] ?? role ?? '';
}

export function publicWords(value) {
    return publics[language()][value] ?? value ?? '';
}

export function formatKilometres(metres) {
    const km = metres / 1000;
    const digits = km < 10 ? 1 : 0;
    return km.toLocaleString(language() === 'en' ? 'en-GB' : 'fr-FR', {
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
    });
}

export function formatInteger(value) {
    return Number(value).toLocaleString(language() === 'en' ? 'en-GB' : 'fr-FR');
}

/* A share in [0, 1] as a percentage with `digits` decimals ("86,5 %",
 * "86.5%"); a share below 1 never reads as 100 % (nor above 0 as 0 %). */
export function formatShare(share, digits = 1) {
    const locale = language() === 'en' ? 'en-GB' : 'fr-FR';
    const options = { style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits };
    const step = 10 ** -(digits + 2);
    if (share < 1 && share > 1 - step / 2) return `> ${(1 - step).toLocaleString(locale, options)}`;
    if (share > 0 && share < step / 2) return `< ${step.toLocaleString(locale, options)}`;
    return Number(share).toLocaleString(locale, options);
}

/* A distance given in km, as formatKilometres() writes it ("4,5", "36",
 * "8 696"), or the words for "not available" when the server sends null. */
export function formatKm(km) {
    if (km === null || km === undefined || !Number.isFinite(km)) return t('not_available');
    return formatKilometres(km * 1000);
}

/* Fills every [data-i18n] element's text and [data-i18n-placeholder],
 * [data-i18n-label] attributes under `root`. */
export function translateDocument(root = document) {
    for (const element of root.querySelectorAll('[data-i18n]')) element.textContent = t(element.dataset.i18n);
    for (const element of root.querySelectorAll('[data-i18n-placeholder]'))
        element.placeholder = t(element.dataset.i18nPlaceholder);
    for (const element of root.querySelectorAll('[data-i18n-label]'))
        element.setAttribute('aria-label', t(element.dataset.i18nLabel));
    for (const element of root.querySelectorAll('[data-i18n-title]')) element.title = t(element.dataset.i18nTitle);
}

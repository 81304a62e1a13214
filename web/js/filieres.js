/* filieres.js — the 23 filières de santé maladies rares (FSMR).
 *
 * Owns: the list the planner's filière select offers. Copied from
 * geodata/filieres.csv, column `filiere`, in that file's order (sorted
 * case-insensitively), spelt exactly as the data spells them: the server's
 * `filiere` parameter (/api/coverage, /api/service-areas) and the sites'
 * `filiere` property use these names ("BRAIN TEAM", "TETE COU" with their
 * space). That file is the 2017 labelling (geodata/README.md); change this
 * list with it. */
export const FILIERES = [
    'AnDDI', 'BRAIN TEAM', 'Cardiogen', 'DefiScience', 'FAIIR', 'FAVA-Multi', 'FILFOIE', 'FILNEMUS',
    'FILSLAN', 'FIMARAD', 'FIMATHO', 'FIRENDO', 'G2M', 'MARIH', 'MCGRE', 'MHEMO', 'MUCO', 'NEUROSPHINX',
    'ORKID', 'OSCAR', 'RESPIFIL', 'SENSGENE', 'TETE COU',
];

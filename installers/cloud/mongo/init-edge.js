// Runs once, as the root user, when the mongo-data volume is empty (the image's /docker-entrypoint-initdb.d).
// The CPAP store logs in as edge: readWrite for the documents, dbAdmin because MigrateAsync creates collections and
// indexes and ApplyRetentionAsync changes the TTL index with collMod, which readWrite does not allow.
const password = fs.readFileSync('/run/secrets/mongo-edge-password', 'utf8').trim();
db.getSiblingDB('clinic_edge').createUser({
  user: 'edge',
  pwd: password,
  roles: [{ role: 'readWrite', db: 'clinic_edge' }, { role: 'dbAdmin', db: 'clinic_edge' }],
});

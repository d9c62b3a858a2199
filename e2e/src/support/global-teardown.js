// Stops the PostgreSQL cluster that global-setup.js started.
module.exports = async function stopPostgresForE2e() {
  await globalThis.airlockE2ePostgres?.stop();
};

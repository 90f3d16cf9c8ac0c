// Hardhat 2 config (CommonJS: the repo is ESM). Used by `hardhat node` in the embedded stack and by the
// in-process network in contract tests. Contracts are compiled by contracts/scripts/build.ts (solc-js,
// offline), not by Hardhat, so `sources` points at an empty folder and nothing is ever downloaded.
module.exports = {
  networks: {
    hardhat: { chainId: 31337 },
  },
  paths: {
    sources: './contracts/.hardhat-sources-unused',
    cache: './.provena/hardhat-cache',
    artifacts: './.provena/hardhat-artifacts',
  },
};

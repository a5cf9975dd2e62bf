// A command of the contract whose service is not built yet: say so in one line and fail, rather
// than let npm answer "missing script" or pretend to work.
const [command, issue] = process.argv.slice(2);
console.error(`ensemble: \`npm run ${command}\` is not built yet (issue ${issue}); see the README's status.`);
process.exit(2);

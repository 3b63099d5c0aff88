// Run by the 'build' script at build time: the server shows what it wrote.
const fs = require("fs");
fs.writeFileSync("build-info.json", JSON.stringify({ built: true }));

// Run by the 'build' script at build time: the server shows what it wrote.
const fs = require("fs");
const info = { built: true, note: process.env.BUILD_NOTE || null };
fs.writeFileSync("build-info.json", JSON.stringify(info));

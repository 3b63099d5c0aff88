const express = require("express");
const buildInfo = require("./build-info.json");

const app = express();
const greeting = "Hello from Node";

app.get("/", (req, res) => {
  res.send(`${greeting} ${process.version} on ${process.env.DYNO}`);
});

app.get("/build", (req, res) => {
  res.json(buildInfo);
});

app.listen(Number(process.env.PORT), () => {
  console.log(`listening on ${process.env.PORT}`);
});

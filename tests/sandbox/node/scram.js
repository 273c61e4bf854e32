// Node.js driver against an --auth sandbox: SCRAM-SHA-256 and SCRAM-SHA-1 logins, a read
// user refused a write, a wrong password. Usage: node scram.js <uri with user:password@>
// <uri with a wrong password>; prints one JSON line with what it saw.
const { MongoClient } = require("mongodb");

async function attempt(uri, mechanism) {
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: 5000,
    ...(mechanism ? { authMechanism: mechanism } : {}),
  });
  try {
    await client.connect();
    const status = await client.db("admin").command({ connectionStatus: 1 });
    const doc = await client.db("bank").collection("accounts").findOne({}, { projection: { _id: 1 } });
    let refused = null;
    try {
      await client.db("bank").collection("accounts").insertOne({ _id: "node" });
    } catch (err) {
      refused = { code: err.code, codeName: err.codeName };
    }
    return { users: status.authInfo.authenticatedUsers, doc, refused };
  } catch (err) {
    return { error: { code: err.code, codeName: err.codeName, message: err.message } };
  } finally {
    await client.close();
  }
}

async function main() {
  const [good, wrong] = process.argv.slice(2);
  const seen = {
    sha256: await attempt(good, "SCRAM-SHA-256"),
    sha1: await attempt(good, "SCRAM-SHA-1"),
    negotiated: await attempt(good, null),
    wrong: await attempt(wrong, null),
  };
  console.log(JSON.stringify(seen));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

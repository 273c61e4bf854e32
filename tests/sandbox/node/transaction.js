// Node.js driver against the sandbox: CRUD, a write conflict, a committed transaction.
// Usage: node transaction.js <uri>; prints one JSON line with what it saw.
const { MongoClient } = require("mongodb");

async function main() {
  const client = new MongoClient(process.argv[2], { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const coll = client.db("node").collection("accounts");
  await coll.drop().catch(() => {});
  await coll.insertMany([{ _id: 1, balance: 100 }, { _id: 2, balance: 50 }]);
  const a = client.startSession();
  const b = client.startSession();
  a.startTransaction();
  b.startTransaction();
  await coll.updateOne({ _id: 1 }, { $inc: { balance: -10 } }, { session: a });
  let conflict = null;
  try {
    await coll.updateOne({ _id: 1 }, { $inc: { balance: 5 } }, { session: b });
  } catch (err) {
    conflict = { code: err.code, codeName: err.codeName, labels: err.errorLabels };
  }
  await a.commitTransaction();
  await b.abortTransaction();
  await a.endSession();
  await b.endSession();
  const docs = await coll.find({}).sort({ _id: 1 }).toArray();
  const hello = await client.db("admin").command({ hello: 1 });
  console.log(JSON.stringify({ conflict, docs, setName: hello.setName }));
  await client.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

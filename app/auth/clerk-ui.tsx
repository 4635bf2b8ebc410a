// The only browser-side module that imports @clerk/remix (see clerk.server.ts for the server side).
export { ClerkApp, SignIn, SignUp } from "@clerk/remix";

// Loaded before lib/tf.min.js. TF.js 4.22 assigns the global `regeneratorRuntime` from
// strict-mode code; when that global does not exist the assignment throws, and its fallback
// is `Function(...)`, which the page's Content-Security-Policy forbids (no 'unsafe-eval').
// Declaring the global first lets the plain assignment succeed.
var regeneratorRuntime; // eslint-disable-line no-unused-vars, no-var

'use strict';
// The same cases as official-sdk.test.js, driven by Tessera's own
// <base>/sdk/embed.js (same createSuperblocksEmbed API). Cases: sdk-cases.js.
require('./sdk-cases').defineSdkSuite('tessera');

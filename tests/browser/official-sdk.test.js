'use strict';
// The embed runtime driven by the official @superblocksteam/embed 1.2.0 from
// npm, unchanged, on a host page of another origin. Cases: sdk-cases.js.
require('./sdk-cases').defineSdkSuite('official');

// The reviews app of ../reviews-unsafe with every audit finding fixed: each function says who may call
// it, declares the params it reads, and escalates only where the caller was checked first.

Parse.Cloud.define('someCloudCode', async (request) => {
  return `logged in as ${request.user.get('username')}`;
}, { requireUser: true });

Parse.Cloud.define('averageStars', async (request) => {
  const query = new Parse.Query('Review');
  query.equalTo('movie', request.params.movie);
  const results = await query.find();
  let sum = 0;
  for (let i = 0; i < results.length; ++i) {
    sum += results[i].get('stars');
  }
  return results.length === 0 ? 0 : sum / results.length;
}, {
  fields: { movie: { type: String, required: true } },
  requireUser: true,
});

// Escalates, but only moderators reach it.
Parse.Cloud.define('resetScores', async () => {
  const reviews = await new Parse.Query('Review').find({ useMasterKey: true });
  for (const review of reviews) review.set('stars', 0);
  await Parse.Object.saveAll(reviews, { useMasterKey: true });
  return reviews.length;
}, { requireAnyUserRoles: ['moderator'] });

// Reads as the caller: each user exports what their ACLs let them read.
Parse.Cloud.define('exportReviews', async () => {
  const reviews = await new Parse.Query('Review').limit(1000).find();
  return reviews.map((review) => review.toJSON());
}, { requireUser: true, rateLimit: { requestTimeWindow: 60000, requestCount: 5, zone: 'user' } });

Parse.Cloud.define('editReview', async (request) => {
  const review = await new Parse.Query('Review').get(request.params.reviewId);
  review.set('text', request.params.text);
  return review.save();
}, {
  requireUser: true,
  fields: { reviewId: { type: String, required: true }, text: { type: String, required: true } },
});

// Public, cheap and limited: the one function anyone may call.
Parse.Cloud.define('ping', () => 'pong', { public: true, rateLimit: { requestTimeWindow: 60000, requestCount: 60 } });

// Runs as the caller: request.user is who saves, no master key needed to read their own name.
Parse.Cloud.beforeSave('Review', (request) => {
  if (request.user) request.object.set('authorName', request.user.get('username'));
});

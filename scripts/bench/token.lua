-- wrk script: POST /v2/token with the demo package's JSON body.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"grant_type":"client_credentials","client_id":"demo-client-id","client_secret":"demo-client-secret"}'

local non_200 = 0
response = function(status, headers, body)
  if status ~= 200 then non_200 = non_200 + 1 end
end

done = function(summary, latency, requests)
  io.write(string.format("non-200 answers: %d\n", non_200))
end
